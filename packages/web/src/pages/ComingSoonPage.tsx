import { Card } from '../components/Card.js';
import { EmptyState } from '../components/EmptyState.js';
import { PageHeader } from '../components/PageHeader.js';
import { useDocumentTitle } from '../hooks.js';
import type { Section } from '../sections.js';

/** Stands in for a section whose issue has not landed: says what it will hold, shows no data. */
export function ComingSoonPage({ section }: { section: Section }) {
  useDocumentTitle(section.label);
  return (
    <>
      <PageHeader title={section.label} />
      <Card>
        <EmptyState title="Coming soon">
          <p>{section.about}</p>
          <p className="muted">This section is not available in this version of Hangar yet.</p>
        </EmptyState>
      </Card>
    </>
  );
}
