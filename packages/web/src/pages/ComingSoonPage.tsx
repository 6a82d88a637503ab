import { PageHeader } from '../components/AppShell.js';
import { Card } from '../components/Card.js';
import { useDocumentTitle } from '../hooks.js';
import type { Section } from '../sections.js';

/** Stands in for a section whose issue has not landed: says what it will hold, shows no data. */
export function ComingSoonPage({ section }: { section: Section }) {
  useDocumentTitle(section.label);
  return (
    <>
      <PageHeader title={section.label} />
      <Card>
        <div className="empty-state">
          <p className="empty-state-title">Coming soon</p>
          <p className="empty-state-text">{section.about}</p>
          <p className="empty-state-text muted">This section is not available in this version of Hangar yet.</p>
        </div>
      </Card>
    </>
  );
}
