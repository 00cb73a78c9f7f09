// An independent Luhn implementation for building test card numbers (the
// module's own check is what is under test).
export function luhnCheckDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = body.charCodeAt(body.length - 1 - i) - 48;
    if (i % 2 === 0) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

export function withLuhn(body: string): string { return body + luhnCheckDigit(body); }

export function luhnValid(num: string): boolean {
  return luhnCheckDigit(num.slice(0, -1)) === num.slice(-1);
}
