// "did you mean" for misspelt field names: known aliases first (names other
// tools use), then the closest known name within a small edit distance.

const ALIASES: Record<string, string> = {
  sport: 'src_port', dport: 'dst_port', port: 'dst_port', srcport: 'src_port', dstport: 'dst_port',
  source: 'src', destination: 'dst', src_ip: 'src', dst_ip: 'dst', dest: 'dst',
  protocol: 'proto', module: 'modules', vlan_id: 'vlan', prio: 'priority',
  policy: 'default_policy', default: 'default_policy', defaultpolicy: 'default_policy',
};

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = above;
    }
  }
  return row[b.length]!;
}

/** The known name the user probably meant, or undefined. */
export function suggestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase().replace(/-/g, '_');
  if (known.includes(lower)) return lower;
  const alias = ALIASES[lower] ?? ALIASES[lower.replace(/_/g, '')];
  if (alias !== undefined && known.includes(alias)) return alias;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.min(3, Math.floor(lower.length / 3)));
  for (const k of known) {
    const d = editDistance(lower, k);
    if (d <= bestDistance && (best === undefined || d < bestDistance)) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}
