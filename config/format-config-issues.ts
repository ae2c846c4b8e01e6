import type { ZodIssue } from 'zod';

// Turns zod's validation issues into sentences an operator can act on: which key, which value,
// and what was expected. Used for daemon.json itself and for each plugin's section of it.

export function formatConfigIssues(issues: readonly ZodIssue[], input: unknown, where: string): string {
  return issues.map((issue) => formatIssue(issue, input, where)).join('\n');
}

function formatIssue(issue: ZodIssue, input: unknown, where: string): string {
  const keyPath = issue.path.map(String).join('.');
  const place = keyPath ? `${where} key "${keyPath}"` : where;
  const value = describeValue(valueAt(input, issue.path));
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys
        .map((key) => {
          const unknownValue = describeValue(valueAt(input, [...issue.path, key]));
          const inside = keyPath ? ` inside "${keyPath}"` : '';
          return `${where}: unknown key "${key}"${inside} (value ${unknownValue}); remove it or check its spelling`;
        })
        .join('\n');
    case 'invalid_type':
      if (issue.received === 'undefined') return `${place}: missing; expected ${issue.expected}`;
      return `${place}: value ${value} is ${article(issue.received)}; expected ${article(issue.expected)}`;
    case 'invalid_enum_value':
      return `${place}: value ${value} is not allowed; expected one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}`;
    case 'invalid_union':
      return `${place}: value ${value} has the wrong type; expected ${unionExpectation(issue)}`;
    case 'too_small':
      return `${place}: value ${value} is too small; expected at least ${String(issue.minimum)}${issue.type === 'array' ? ' entries' : issue.type === 'string' ? ' characters' : ''}`;
    case 'too_big':
      return `${place}: value ${value} is too big; expected at most ${String(issue.maximum)}`;
    default:
      return `${place}: value ${value} is not valid; expected ${issue.message}`;
  }
}

function unionExpectation(issue: Extract<ZodIssue, { code: 'invalid_union' }>): string {
  const expected = new Set<string>();
  for (const error of issue.unionErrors) {
    for (const inner of error.issues) {
      if (inner.code === 'invalid_type') expected.add(article(inner.expected));
    }
  }
  return expected.size > 0 ? [...expected].join(' or ') : issue.message;
}

function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  let current = input;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function describeValue(value: unknown): string {
  if (value === undefined) return '(missing)';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function article(typeName: string): string {
  return /^[aeiou]/.test(typeName) ? `an ${typeName}` : `a ${typeName}`;
}
