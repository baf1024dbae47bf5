// The pieces of a meta.k8s.io/v1 Table that printers produce.

export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface RowCondition {
  type: 'Completed';
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

export type Cell = string | number | boolean | null;

export interface PrintedRow {
  cells: Cell[];
  conditions?: RowCondition[];
}

/** Objects arrive as API JSON; printers read them defensively. */
export type Json = any;

export interface Printer {
  columns: ColumnDefinition[];
  row(obj: Json, now: number): PrintedRow;
}

/** A column; `wide` columns (priority 1) print only with `kubectl get -o wide`. */
export function column(name: string, description: string, opts: { type?: string; format?: string; wide?: boolean } = {}): ColumnDefinition {
  return { name, type: opts.type ?? 'string', format: opts.format ?? '', description, priority: opts.wide ? 1 : 0 };
}

export const nameColumn = column('Name', 'Name must be unique within a namespace.', { format: 'name' });
export const ageColumn = column('Age', 'Time since the object was created (metadata.creationTimestamp).');
