/**
 * The default house names (ARCHITECTURE.md). Houses are data: a config may define more, so a house
 * is any string; these constants are the ones every install has.
 *
 * @example
 *   new Harness({ house: House.BEZALEL })
 */
export const House = {
  TIMMY: 'timmy',
  EZRA: 'ezra',
  BEZALEL: 'bezalel',
  ALLEGRO: 'allegro',
} as const
// `string & {}` keeps editor completion for the constants while accepting configured houses.
export type House = (typeof House)[keyof typeof House] | (string & {})
