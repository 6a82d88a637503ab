import { Card } from '../components/Card.js';
import { EmptyState } from '../components/EmptyState.js';
import { PageHeader } from '../components/PageHeader.js';
import { useDocumentTitle } from '../hooks.js';
import { Link } from '../router.js';

export function NotFoundPage({ pathname }: { pathname: string }) {
  useDocumentTitle('Not found');
  return (
    <>
      <PageHeader title="Page not found" />
      <Card>
        <EmptyState
          title="Nothing here"
          action={
            <Link to="/" className="text-link">
              Go to the overview
            </Link>
          }
        >
          <p>
            There is no page at <code>{pathname}</code>.
          </p>
        </EmptyState>
      </Card>
    </>
  );
}
