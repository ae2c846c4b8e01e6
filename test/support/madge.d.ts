// madge ships no types: this is the part of its JS API that test/unit/import-cycles.test.ts uses.
declare module 'madge' {
  namespace madge {
    interface MadgeConfig {
      /** Paths in the results are relative to this directory. */
      baseDir?: string;
      /** Extensions of the files to read when a path given is a directory. */
      fileExtensions?: string[];
      /** A tsconfig path or object, for resolving imports the way tsc does. */
      tsConfig?: string | object;
      excludeRegExp?: RegExp[];
      /** Passed to the per-language detectives (precinct), e.g. `{ ts: { skipTypeImports } }`. */
      detectiveOptions?: Record<string, Record<string, unknown>>;
    }

    interface MadgeResult {
      /** Each file read, with the files it imports. */
      obj(): Record<string, string[]>;
      /** Each cycle found, as its files in import order, without repeating the first at the end. */
      circular(): string[][];
      /** `skipped`: import specifiers madge could not resolve to a file. */
      warnings(): { skipped: string[] };
    }
  }

  function madge(paths: string | string[], config?: madge.MadgeConfig): Promise<madge.MadgeResult>;

  export = madge;
}
