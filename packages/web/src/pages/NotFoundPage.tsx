import { PageHeader } from '../components/AppShell.js';
import { Card } from '../components/Card.js';
import { useDocumentTitle } from '../hooks.js';
import { Link } from '../router.js';

export function NotFoundPage({ pathname }: { pathname: string }) {
  useDocumentTitle('Not found');
  return (
    <>
      <PageHeader title="Page not found" />
      <Card>
        <div className="empty-state">
          <p className="empty-state-text">
            There is no page at <code>{pathname}</code>.
          </p>
          <Link to="/" className="text-link">
            Go to the overview
          </Link>
        </div>
      </Card>
    </>
  );
}
