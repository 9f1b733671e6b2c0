/**
 * The families of rules/demo.yaml with the keys each covers, written out here rather than taken
 * from the code under test, in the file's order (the order a report lists them).
 */
export const DEMO_FAMILIES: readonly [name: string, pattern: RegExp][] = [
  ['user-profile', /^demo:user:[^:]+$/],
  ['account-limits', /^demo:account-limits:[^:]+$/],
  ['product', /^demo:product:[^:]+$/],
  ['recent-orders', /^demo:user:[^:]+:orders$/],
  ['order-history', /^demo:user:[^:]+:order-history$/],
  ['follows', /^demo:user:[^:]+:follows$/],
  ['post-likes', /^demo:post:[^:]+:likes$/],
  ['leaderboard', /^demo:board:[^:]+$/],
  ['product-page', /^demo:product-page:[^:]+$/],
];
