// ESLint (flat config) for podwire's structure, not its style (Prettier owns
// that): dependencies point one way, down the layers below; another folder
// is reached only through its index.ts; only src/host starts processes; and
// errors are the project's typed classes, never a bare Error.
import tseslint from 'typescript-eslint';
import fs from 'node:fs';

/**
 * The layers, lowest first (README.md, Layout). A folder may import the
 * folders listed before it, never one after it: the packet codecs know
 * nothing of the dataplane, the API server nothing of the CLI.
 */
export const LAYERS = [
  'packet', // codecs, header views, the frame decoder, CIDR arithmetic
  'text', // tabwriter and tables
  'host', // the seam to Linux: argv builders, the command runner
  'native', // the AF_PACKET addon and BPF
  'control', // API objects, store, API server, client, controllers, printers
  'resolver',
  'policy',
  'lb',
  'dns',
  'ingress',
  'cloudlb',
  'overlay',
  'dataplane',
  'kubelet',
  'capture',
  'analyze',
  'observe',
  'trace',
  'agent',
  'lab',
  'probe',
  'ui', // podwire ui: the web view's server (src/ui/web/ is the page, bundled for the browser)
  'examples',
  'bench',
  'cli',
];

const folders = fs
  .readdirSync(new URL('./src', import.meta.url), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
for (const f of folders)
  if (!LAYERS.includes(f)) throw new Error(`eslint.config.js: src/${f} has no place in LAYERS; add it`);

/** The folders `folder` must not import: those above it. */
const above = (folder) => LAYERS.slice(LAYERS.indexOf(folder) + 1);

const PROCESS_MODULES = ['child_process', 'node:child_process', 'execa', 'node-pty'].map((name) => ({
  name,
  message: 'Processes start through src/host (one seam to Linux: inside a node or a pod as asked).',
}));

/**
 * no-restricted-imports for the files of `folder` that sit `depth` folders
 * below src/ (src/agent/x.ts is depth 1): a relative import leaves the
 * folder with exactly `depth` "../" steps, so the patterns are written per depth.
 */
function restrictions(folder, depth) {
  const up = '(?:\\.\\./){' + depth + '}';
  const patterns = [
    ...above(folder).map((higher) => ({
      regex: `^${up}${higher}/`,
      message: `src/${folder} must not import src/${higher}: ${higher} is above ${folder} in LAYERS (eslint.config.js, README Layout). Move the shared piece down instead.`,
    })),
    {
      // another folder's file other than an index.ts (a subfolder's index, as control/api/index.ts, counts)
      regex: `^${up}(?!\\.)[^/]+/(?!(?:[^/]+/)*index\\.js$)`,
      message: 'Import another folder through its index.ts (its public entry), not one of its files.',
    },
  ];
  return ['error', { patterns }];
}

const perFolder = [];
for (const folder of LAYERS)
  for (const depth of [1, 2, 3, 4]) {
    const glob = `src/${folder}/${'*/'.repeat(depth - 1)}*.ts`;
    perFolder.push({ files: [glob], rules: { 'no-restricted-imports': restrictions(folder, depth) } });
  }

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/native/build/**'] },
  {
    files: ['src/**/*.ts'],
    languageOptions: { parser: tseslint.parser, parserOptions: { sourceType: 'module' } },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'off' },
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "ThrowStatement > NewExpression[callee.name='Error']",
          message:
            'Throw one of the project\'s typed errors (a class with a stable `code`, STYLE.md "Names and errors"), not a bare Error.',
        },
      ],
    },
  },
  ...perFolder,
  {
    // src/ui/web is the page, bundled for the browser (scripts/bundle.mjs): it imports npm packages
    // and its own files, not the Node layers, so the layering is not its rule; the typed-error
    // rule above is (its .tsx files are added to it here).
    files: ['src/ui/web/**/*.ts', 'src/ui/web/**/*.tsx'],
    languageOptions: { parser: tseslint.parser, parserOptions: { sourceType: 'module', ecmaFeatures: { jsx: true } } },
    rules: {
      'no-restricted-imports': 'off',
      'no-restricted-syntax': [
        'error',
        {
          selector: "ThrowStatement > NewExpression[callee.name='Error']",
          message: "Throw one of the project's typed errors (a class with a stable `code`), not a bare Error.",
        },
      ],
    },
  },
  {
    // Only the host seam starts processes. A rule of its own (typescript-eslint's copy of
    // no-restricted-imports), so the layering above and this can be switched separately.
    files: ['src/**/*.ts'],
    ignores: ['src/host/**'],
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: PROCESS_MODULES }] },
  },
);
