import { commands } from '../../../commands/index.js'
import type { CommandSpec } from '../../commands-core/command-spec.js'
import { PERMISSION_TEXT } from '../../commands-core/permission.js'
import type { DashboardPage } from '../dashboard-env.js'
import { render } from '../layout.js'

/**
 * The little Markdown command help uses, as HTML: `code` spans and **bold**; everything else is
 * text (escaped by JSX).
 *
 * @example
 *   <InlineMarkdown text="needs `/approve` **first**" />
 */
export function InlineMarkdown(props: { text: string }) {
  const parts = props.text.split(/(`[^`]+`|\*\*[^*]+\*\*)/)
  return (
    <>
      {parts.map((p) =>
        p.startsWith('`') && p.endsWith('`') && p.length > 1 ? (
          <code>{p.slice(1, -1)}</code>
        ) : p.startsWith('**') && p.endsWith('**') && p.length > 3 ? (
          <strong>{p.slice(2, -2)}</strong>
        ) : (
          p
        ),
      )}
    </>
  )
}

const anchor = (spec: CommandSpec) => `command-${spec.name}`

function Command(props: { spec: CommandSpec }) {
  const { spec } = props
  return (
    <section aria-labelledby={anchor(spec)}>
      <h2 id={anchor(spec)}>
        <code>/{spec.name}</code>
      </h2>
      <p>
        Usage: <code>{spec.help.usage}</code>
      </p>
      <p>
        <InlineMarkdown text={spec.help.description} />
      </p>
      <p>
        Who may use it: <strong>{spec.permission}</strong> ({PERMISSION_TEXT[spec.permission]}).
        {spec.aliases.length > 0 && (
          <>
            {' '}
            Aliases:{' '}
            {spec.aliases.map((a, i) => (
              <>
                {i > 0 && ', '}
                <code>/{a}</code>
              </>
            ))}
            .
          </>
        )}
      </p>
      <p>Examples:</p>
      <pre>{spec.help.examples.join('\n')}</pre>
    </section>
  )
}

/**
 * `/commands`: every slash command's help, generated from the same specs as `/help` and
 * docs/commands.md (like Prow's command help). Readable without logging in: `/help` replies link
 * here, and nothing in it is private.
 */
export const commandsPage: DashboardPage = {
  nav: { label: 'Commands', path: '/commands' },
  public: true,
  register(app, deps) {
    const base = deps.config.basePath
    app.get('/commands', (c) =>
      render(
        c,
        { title: 'Commands' },
        <>
          <p>
            Write a command at the start of a line in a new issue or pull request comment. Commands inside
            code, quotes or HTML comments are ignored, and so are edited comments.
          </p>
          <table>
            <caption class="muted">Every command</caption>
            <thead>
              <tr>
                <th scope="col">Command</th>
                <th scope="col">Who may use it</th>
                <th scope="col">What it does</th>
              </tr>
            </thead>
            <tbody>
              {commands.map((spec) => (
                <tr>
                  <td>
                    <a href={`${base}/commands#${anchor(spec)}`}>
                      <code>{spec.help.usage}</code>
                    </a>
                  </td>
                  <td>{spec.permission}</td>
                  <td>
                    <InlineMarkdown text={spec.help.description.split(/(?<=\.)\s/)[0] ?? ''} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {commands.map((spec) => (
            <Command spec={spec} />
          ))}
        </>,
      ),
    )
  },
}
