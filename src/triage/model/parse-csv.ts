/**
 * Parses RFC 4180 CSV: quoted fields may hold commas, CR/LF and doubled quotes. A header row is
 * required; rows become objects keyed by it. Written here rather than adding a dependency because
 * the format is small and fully specified, and the parser is tested on the awkward cases.
 * Throws on an unterminated quote or a row whose field count differs from the header.
 *
 * @example
 * parseCsv('a,b\n1,"x, ""y"""\n') // [{ a: '1', b: 'x, "y"' }]
 */
export function parseCsv(text: string): Record<string, string>[] {
  const records: string[][] = []
  let row: string[] = []
  let field = ''
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0
  let quoted = false
  let line = 1
  while (i < text.length) {
    const ch = text[i]!
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"'
          i += 2
          continue
        }
        quoted = false
      } else {
        if (ch === '\n') line++
        field += ch
      }
      i++
      continue
    }
    if (ch === '"' && field === '') quoted = true
    else if (ch === ',') {
      row.push(field)
      field = ''
    } else if (ch === '\n' || ch === '\r') {
      row.push(field)
      records.push(row)
      row = []
      field = ''
      if (ch === '\r' && text[i + 1] === '\n') i++
      line++
    } else field += ch
    i++
  }
  if (quoted) throw new Error(`CSV: unterminated quoted field (line ${line})`)
  if (field !== '' || row.length > 0) {
    row.push(field)
    records.push(row)
  }
  const [header, ...rows] = records.filter((r) => !(r.length === 1 && r[0] === ''))
  if (!header) return []
  return rows.map((r, n) => {
    if (r.length !== header.length)
      throw new Error(`CSV: record ${n + 2} has ${r.length} fields, the header has ${header.length}`)
    return Object.fromEntries(header.map((h, k) => [h.trim(), r[k]!]))
  })
}
