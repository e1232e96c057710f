/** Readable generated run names, like "brisk-otter-7". */

const ADJECTIVES = [
  'amber', 'bold', 'brisk', 'calm', 'clever', 'cosmic', 'crisp', 'daring', 'deft', 'eager', 'fancy', 'fleet',
  'gentle', 'glad', 'golden', 'grand', 'hardy', 'humble', 'jolly', 'keen', 'lively', 'lucky', 'mellow', 'merry',
  'misty', 'nimble', 'noble', 'proud', 'quiet', 'rapid', 'rosy', 'royal', 'rustic', 'sage', 'shiny', 'silent',
  'snowy', 'solar', 'steady', 'sunny', 'swift', 'tidy', 'vivid', 'warm', 'wild', 'wise', 'witty', 'zesty',
];
const NOUNS = [
  'badger', 'bear', 'beaver', 'bison', 'crane', 'dolphin', 'eagle', 'falcon', 'ferret', 'finch', 'fox', 'gecko',
  'heron', 'ibis', 'jaguar', 'koala', 'lark', 'lemur', 'lynx', 'marten', 'moose', 'newt', 'orca', 'otter',
  'owl', 'panda', 'puffin', 'quail', 'raven', 'robin', 'salmon', 'seal', 'sparrow', 'stork', 'swan', 'tapir',
  'tiger', 'toucan', 'trout', 'turtle', 'walrus', 'whale', 'wolf', 'wombat', 'wren', 'yak', 'zebra', 'gull',
];

/** A name from `random` (0 <= r < 1 each call); the numeric suffix keeps collisions rare. */
export function generateRunName(random: () => number = Math.random): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${1 + Math.floor(random() * 99)}`;
}
