/**
 * `podwire example list|run|delete`: the articles' manifests (examples/*.yaml)
 * run end to end, each with a companion file of what it names but does not
 * give (examples/companions/), in a namespace of its own unless it names
 * its own.
 *
 *   EXAMPLES, findExample(query)        the catalogue: name → namespace, companion, TLS Secrets
 *   listLines(examples)                  what `example list` prints
 *   hintsFor(entry, facts), formatHints  what to try, with the lab's addresses (pure)
 *   marked, decideRun, decideDelete      how runs mark what they make and share companions (pure)
 *   runExample, readyState, hintFacts, deleteExample   the API server side
 */
export {
  EXAMPLES,
  findExample,
  namespacesOf,
  ExampleNotFoundError,
  type ExampleEntry,
  type TlsSecretSpec,
} from './catalogue.js';
export { listLines } from './list.js';
export { hintsFor, formatHints, podwireCommand, type Hint, type HintFacts, type ServiceFacts } from './hints.js';
export {
  EXAMPLE_LABEL,
  USERS_ANNOTATION,
  marked,
  usersOf,
  isMarked,
  decideRun,
  decideDelete,
  usersPatch,
  namespaceBlockers,
  type RunDecision,
  type DeleteDecision,
} from './marks.js';
export {
  runExample,
  readExample,
  readyState,
  expectations,
  hintFacts,
  deleteExample,
  ExampleRunError,
  type ExampleIo,
  type RunResult,
  type ReadyState,
  type DeleteResult,
} from './run.js';
