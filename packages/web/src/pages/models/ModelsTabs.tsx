import { TabNav } from '../../components/TabNav.js';
import { APPROVALS_PATH, MODELS_PATH } from '../../models.js';

/** The Models section's two project-wide pages: the models list and the approval queue. */
export function ModelsTabs({ active }: { active: 'models' | 'approvals' }) {
  return (
    <TabNav
      label="Models"
      items={[
        { to: MODELS_PATH, label: 'Registered models', active: active === 'models' },
        { to: APPROVALS_PATH, label: 'Approval queue', active: active === 'approvals' },
      ]}
    />
  );
}
