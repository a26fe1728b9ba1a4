// The part of better-sqlite3 12's API the back end uses (the package ships no types and
// @types/better-sqlite3 is not a dependency).
declare module 'better-sqlite3' {
  interface RunResult { changes: number; lastInsertRowid: number | bigint }
  interface Statement<P extends unknown[] = unknown[]> {
    run(...params: P): RunResult;
    get(...params: P): unknown;
    all(...params: P): unknown[];
  }
  interface Database {
    prepare<P extends unknown[] = unknown[]>(sql: string): Statement<P>;
    exec(sql: string): Database;
    pragma(source: string, options?: { simple?: boolean }): unknown;
    transaction<F extends (...args: any[]) => any>(fn: F): F & { immediate: F; exclusive: F; deferred: F };
    close(): Database;
    readonly open: boolean;
    readonly inTransaction: boolean;
  }
  interface Options { readonly?: boolean; fileMustExist?: boolean; timeout?: number }
  const Database: { new (filename: string, options?: Options): Database; (filename: string, options?: Options): Database };
  export default Database;
  export type { Database, Statement, RunResult };
}
