import { Card } from '../components/Card.js';
import { EmptyState } from '../components/EmptyState.js';
import { PageHeader } from '../components/PageHeader.js';
import { useDocumentTitle } from '../hooks.js';
import { Link } from '../router.js';

/**
 * Shown instead of a page the user's role does not open (admin pages for non-admins). It says so
 * plainly rather than pretending the page does not exist; the server refuses the calls anyway.
 */
export function NotAllowedPage({ reason }: { reason: string }) {
  useDocumentTitle('Not allowed');
  return (
    <>
      <PageHeader title="Not allowed" />
      <Card>
        <div data-testid="not-allowed">
          <EmptyState
            title="You do not have access to this page"
            action={
              <Link to="/" className="text-link">
                Go to the overview
              </Link>
            }
          >
            <p>{reason}</p>
            <p className="muted">Ask a platform admin if you need it.</p>
          </EmptyState>
        </div>
      </Card>
    </>
  );
}
