// Entry point: mounts the portal. Styles load here, tokens first, so every rule can use them.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { portalPathForMlflowHash } from './mlflow-links.js';
import { followHashLink } from './router.js';
import './tokens.css';
import './styles.css';

// An MLflow UI link (`/#/experiments/1`) becomes the portal's path before anything renders, so
// even the login page's "continue to" remembers where it leads.
followHashLink(portalPathForMlflowHash);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
