// Rows for apps/v1 deployments and replicasets.
import { age, containerCells } from './format.js';
import { labelSelectorString } from '../../../api/label-selector.js';
import { ageColumn, column, nameColumn, type Json, type Printer } from './types.js';

function wideCells(obj: Json): string[] {
  const [containers, images] = containerCells(obj.spec?.template?.spec?.containers);
  return [containers, images, labelSelectorString(obj.spec?.selector)];
}

const wideColumns = [
  column('Containers', 'Names of each container in the template.', { wide: true }),
  column('Images', 'Images referenced by each container in the template.', { wide: true }),
  column('Selector', 'Label selector for pods.', { wide: true }),
];

export const deploymentPrinter: Printer = {
  columns: [
    nameColumn,
    column('Ready', 'Number of ready pods out of the desired replicas.'),
    column('Up-to-date', 'Number of pods updated to the desired template.', { type: 'integer' }),
    column('Available', 'Number of pods available (ready for minReadySeconds).', { type: 'integer' }),
    ageColumn,
    ...wideColumns,
  ],
  row: (d, now) => {
    const desired: number = d.spec?.replicas ?? 1;
    const st = d.status ?? {};
    return {
      cells: [
        d.metadata?.name ?? '',
        `${st.readyReplicas ?? 0}/${desired}`,
        st.updatedReplicas ?? 0,
        st.availableReplicas ?? 0,
        age(d.metadata?.creationTimestamp, now),
        ...wideCells(d),
      ],
    };
  },
};

export const replicaSetPrinter: Printer = {
  columns: [
    nameColumn,
    column('Desired', 'Number of desired pods.', { type: 'integer' }),
    column('Current', 'Number of pods that exist.', { type: 'integer' }),
    column('Ready', 'Number of ready pods.', { type: 'integer' }),
    ageColumn,
    ...wideColumns,
  ],
  row: (rs, now) => {
    const st = rs.status ?? {};
    return {
      cells: [
        rs.metadata?.name ?? '',
        rs.spec?.replicas ?? 1,
        st.replicas ?? 0,
        st.readyReplicas ?? 0,
        age(rs.metadata?.creationTimestamp, now),
        ...wideCells(rs),
      ],
    };
  },
};
