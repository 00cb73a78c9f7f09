import { beforeAll, describe, expect, it } from 'vitest';
import { Verdict } from '../../../host/verdict.js';
import { SecuxflowError } from '../../../host/errors.js';
import { item, packet } from '../../host/wasm/helpers.js';
import { compiledModule, instance, run, type LogLine } from './support.js';
import { withLuhn, luhnValid } from './luhn.js';

beforeAll(async () => { await compiledModule('dlp'); }, 300_000);

const udp = (payload: string, flowId = 1) => item(packet({ proto: 'udp', dstPort: 514, payload }), { flowId });

async function scanOne(text: string, config?: unknown) {
  const inst = await instance('dlp', config);
  return run(inst, [udp(text)]);
}

const JWT_HEADER = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');
const JWT_PAYLOAD = Buffer.from('{"sub":"1234567890","name":"Test User"}').toString('base64url');
const JWT_SIG = 'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const JWT = `${JWT_HEADER}.${JWT_PAYLOAD}.${JWT_SIG}`;
const AWS_ID = 'AKIAIOSFODNN7EXAMPLE';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('dlp finds each kind and reports it redacted', () => {
  it('Luhn-valid card numbers of real issuer ranges, with and without separators', async () => {
    const cards = [withLuhn('411111111111111'), withLuhn('555555555555444'), withLuhn('37828224631000'), withLuhn('601111111111111')];
    expect(cards.every(luhnValid)).toBe(true);
    const text = `a=${cards[0]} b=${cards[1]!.replace(/(\d{4})(?=\d)/g, '$1 ')} c=${cards[2]!.slice(0, 4)}-${cards[2]!.slice(4, 10)}-${cards[2]!.slice(10)} d=${cards[3]}`;
    const r = await scanOne(text);
    expect(r.alerts.map((a) => a.sigId)).toEqual([1005001, 1005001, 1005001, 1005001]);
    expect(r.alerts.map((a) => a.metadata!.brand)).toEqual(['visa', 'mastercard', 'amex', 'discover']);
    expect(r.alerts.map((a) => a.metadata!.redacted)).toEqual(cards.map((c) => '*'.repeat(c.length - 4) + c.slice(-4)));
    expect(r.alerts[0]!.severity).toBe(1);
    expect(r.alerts[0]!.metadata!.offset).toBe(2);
    expect(r.verdicts).toEqual([Verdict.CONTINUE]);
  });

  it('ignores Luhn failures, unknown issuers, wrong lengths and digits inside longer tokens', async () => {
    const good = withLuhn('411111111111111');
    const badLuhn = good.slice(0, -1) + String((Number(good.slice(-1)) + 1) % 10);
    const noIssuer = withLuhn('123456781234567');
    const amexWrongLength = withLuhn('378282246310005'); // 16 digits: amex cards have 15
    const r = await scanOne(`x ${badLuhn} ${noIssuer} ${amexWrongLength} id${good} ${good}9 order 2024-11-22 phone 555-0100`);
    expect(r.alerts).toEqual([]);
  });

  it('a MIME boundary as Python writes it (fifteen = and 19 random digits) is not a card, even when its digits pass Luhn', async () => {
    const digits = withLuhn('401288888888188123'); // 19 digits, a visa prefix
    expect(luhnValid(digits)).toBe(true);
    const boundary = `===============${digits}==`;
    const mail = `Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n--${boundary}\r\nhello\r\n--${boundary}--\r\n`;
    expect((await scanOne(mail)).alerts).toEqual([]);
    // a value after one '=' (a form field) is still a card
    expect((await scanOne(`card=${digits}`)).alerts.map((a) => a.sigId)).toEqual([1005001]);
  });

  it('US SSNs only outside the never-issued ranges', async () => {
    const r = await scanOne('ok 123-45-6789 / 000-12-3456 666-12-3456 912-34-5678 123-00-4567 123-45-0000 123456789 1234-56-789 ok2 078-05-1121');
    expect(r.alerts.map((a) => [a.sigId, a.severity, a.metadata!.redacted])).toEqual([[1005002, 2, '***-**-6789'], [1005002, 2, '***-**-1121']]);
  });

  it('AWS access key ids (AKIA/ASIA + 16) and labelled 40-character secret keys', async () => {
    const r = await scanOne(`aws_access_key_id=${AWS_ID}\naws_secret_access_key = ${AWS_SECRET}\nASIAY34FZKBOKMUTVV7A X${AWS_ID} ${AWS_ID}Z AKIAshort`);
    expect(r.alerts.map((a) => [a.sigId, a.metadata!.redacted, a.metadata!.kind ?? null])).toEqual([
      [1005003, 'AKIA************MPLE', 'long-term'],
      [1005004, '[40 characters]', null],
      [1005003, 'ASIA************VV7A', 'temporary'],
    ]);
    expect(r.alerts.find((a) => a.sigId === 1005004)!.severity).toBe(1);
  });

  it('a key id with a secret right after it is a pair, as in the credentials CSV; hex digests and words are not', async () => {
    const csv = `User name,Password,Access key ID,Secret access key\nci-bot,,${AWS_ID},${AWS_SECRET}\n`;
    const r = await scanOne(csv);
    expect(r.alerts.map((a) => [a.sigId, a.metadata!.kind])).toEqual([[1005003, 'long-term'], [1005004, 'paired with a key id']]);
    expect(r.alerts[1]!.metadata!.offset).toBe(csv.indexOf(AWS_SECRET));
    const notSecrets = await scanOne(`${AWS_ID} ${'a3f9'.repeat(10)}\n${AWS_ID}:ThisIsJustAVeryLongCamelCaseWordNoDigits`);
    expect(notSecrets.alerts.map((a) => a.sigId)).toEqual([1005003, 1005003]);
  });

  it('PEM private key headers of every type, not public keys or certificates', async () => {
    const r = await scanOne('-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----BEGIN PUBLIC KEY-----\nMII\n-----BEGIN CERTIFICATE-----\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----BEGIN PRIVATE KEY-----\n');
    expect(r.alerts.map((a) => [a.sigId, a.metadata!.kind])).toEqual([[1005005, 'RSA PRIVATE KEY'], [1005005, 'OPENSSH PRIVATE KEY'], [1005005, 'PRIVATE KEY']]);
  });

  it('JWTs whose header decodes to JSON with "alg", not look-alikes', async () => {
    const noAlg = `${Buffer.from('{"typ":"JWT"}').toString('base64url')}.${JWT_PAYLOAD}.${JWT_SIG}`;
    const notJson = `eyJub3QganNvbg.${JWT_PAYLOAD}.${JWT_SIG}`;
    const r = await scanOne(`Authorization: Bearer ${JWT}\r\nX-A: ${noAlg}\r\nX-B: ${notJson}\r\n`);
    expect(r.alerts.map((a) => [a.sigId, a.metadata!.alg, a.metadata!.redacted])).toEqual([[1005006, 'HS256', `[JWT, ${JWT.length} characters]`]]);
    expect(r.alerts[0]!.metadata!.offset).toBe('Authorization: Bearer '.length);
  });

  it('never puts the secret bytes into an alert', async () => {
    const card = withLuhn('411111111111111');
    const r = await scanOne(`${card} 123-45-6789 ${AWS_ID} aws_secret_access_key=${AWS_SECRET} ${JWT} -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oGDAS7ZHXxr3oAoGCCqGSM49\n`);
    expect(r.alerts.length).toBe(6);
    const text = JSON.stringify(r.alerts);
    for (const secret of [card, '123-45-6789', '123456789', AWS_ID, AWS_SECRET, JWT, JWT_PAYLOAD, JWT_SIG, 'MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oGDAS7ZHXxr3oAoGCCqGSM49']) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('dlp configuration', () => {
  it('detect selects detectors; action block_flow blocks the flow and sticks', async () => {
    const inst = await instance('dlp', { detect: ['ssn'], action: 'block_flow' });
    const r = run(inst, [udp(`${withLuhn('411111111111111')} no`, 1), udp('123-45-6789', 2), udp('hello', 2)]);
    expect(r.verdicts).toEqual([Verdict.CONTINUE, Verdict.BLOCK_FLOW, Verdict.BLOCK_FLOW]);
    expect(r.alerts.map((a) => [a.index, a.sigId, a.metadata!.action])).toEqual([[1, 1005002, 'block_flow']]);
  });

  it('block_src carries its ttl; max_alerts_per_flow caps the reports', async () => {
    const inst = await instance('dlp', { action: 'block_src', block_ttl: 900 });
    const r = run(inst, [udp('123-45-6789')]);
    expect(r.verdicts).toEqual([Verdict.BLOCK_SRC]);
    expect(r.args).toEqual([900]);
    const capped = await instance('dlp', { max_alerts_per_flow: 2 });
    expect(run(capped, [udp('123-45-6789 123-45-6780 123-45-6781 123-45-6782')]).alerts.length).toBe(2);
  });

  it('refuses bad configs naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ detect: ['credit_card', 'iban'] }, /detect\[1\] must be one of credit_card, ssn/],
      [{ action: 'quarantine' }, /action must be one of alert, drop, block_flow, block_src \(got "quarantine"\)/],
      [{ inspect_depth: 0 }, /inspect_depth must be an integer 1\.\.16777216/],
      [{ colour: 'red' }, /unknown field "colour"/],
      [[1, 2], /must be a JSON object/],
    ];
    for (const [config, re] of cases) {
      const logs: LogLine[] = [];
      const err = await instance('dlp', config, logs).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(SecuxflowError);
      expect((err as SecuxflowError).code).toBe('E_MODULE_CONFIG');
      expect(String((err as Error).message)).toMatch(re);
    }
  });
});
