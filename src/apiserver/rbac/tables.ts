// Table columns of the RBAC kinds, as kubectl prints them from upstream's printers: roles show
// NAME and CREATED AT, bindings NAME, ROLE and AGE (USERS, GROUPS, SERVICEACCOUNTS with -o wide).
import { age } from '../present/tables/format.js';
import { ageColumn, column, nameColumn, type Json, type Printer } from '../present/tables/types.js';

const createdAt = column('Created At', 'Time when the role was created (metadata.creationTimestamp).', { type: 'date' });

const rolePrinter: Printer = {
  columns: [nameColumn, createdAt],
  row: (role) => ({ cells: [role.metadata?.name ?? '', role.metadata?.creationTimestamp ?? null] }),
};

function subjectNames(b: Json, kind: string): string {
  return ((b.subjects ?? []) as Json[])
    .filter((s) => s.kind === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? b.metadata?.namespace ?? ''}/${s.name}` : s.name))
    .join(', ');
}

const bindingPrinter: Printer = {
  columns: [
    nameColumn,
    column('Role', 'The role the binding grants (kind/name).'),
    ageColumn,
    column('Users', 'Users the binding applies to.', { wide: true }),
    column('Groups', 'Groups the binding applies to.', { wide: true }),
    column('ServiceAccounts', 'ServiceAccounts the binding applies to.', { wide: true }),
  ],
  row: (b, now) => ({
    cells: [
      b.metadata?.name ?? '',
      `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`,
      age(b.metadata?.creationTimestamp, now),
      subjectNames(b, 'User'),
      subjectNames(b, 'Group'),
      subjectNames(b, 'ServiceAccount'),
    ],
  }),
};

export const rbacPrinters: Record<string, Printer> = {
  'rbac.authorization.k8s.io/roles': rolePrinter,
  'rbac.authorization.k8s.io/clusterroles': rolePrinter,
  'rbac.authorization.k8s.io/rolebindings': bindingPrinter,
  'rbac.authorization.k8s.io/clusterrolebindings': bindingPrinter,
};
