/** "10MB", "512KiB", "-1" → bytes (-1: unlimited). */
export function parseSize(text: string): number {
  const match = /^(-1|\d+(?:\.\d+)?)\s*([kKmMgG]?)(i?)[bB]?$/.exec(text.trim());
  if (!match || match[1] === '-1') return -1;
  const base = match[3] === 'i' ? 1024 : 1000;
  const power = { '': 0, k: 1, m: 2, g: 3 }[(match[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.floor(Number(match[1]) * base ** power);
}
