import { render } from 'preact';
import { App } from './app.js';
import './app.css';

// the page's entry: bundled by scripts/bundle.mjs into dist/ui/app.js (+ app.css)
render(<App />, document.getElementById('app') as HTMLElement);
