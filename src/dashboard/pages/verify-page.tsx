import { z } from 'zod'
import { verifyText, type Verdict } from '../../report/verify-verdict.js'
import type { DashboardPage } from '../dashboard-env.js'
import { CsrfField, render } from '../layout.js'

/** The most text the form takes: a result comment is capped far below this. */
export const VERIFY_MAX_CHARS = 512 * 1024

const VerifyForm = z.object({
  text: z
    .string({ message: 'paste a result comment or an envelope' })
    .trim()
    .min(1, 'paste a result comment or an envelope')
    .max(VERIFY_MAX_CHARS, `at most ${VERIFY_MAX_CHARS.toLocaleString('en')} characters`),
})

function Form(props: { base: string; csrf: string | undefined; text?: string }) {
  return (
    <form class="stack wide" method="post" action={`${props.base}/verify`}>
      <CsrfField token={props.csrf} />
      <label for="verify-text">Result comment (its Markdown) or DSSE envelope (JSON)</label>
      <textarea id="verify-text" name="text" rows={14} required aria-describedby="verify-help">
        {props.text ?? ''}
      </textarea>
      <p id="verify-help" class="muted">
        The same checks as <code>uni-wizard verify</code>: the envelope's signature against the house keys;
        for a comment, also that it shows what the statement signs (job, status, tool, house, requester, mode,
        output and every provenance line).
      </p>
      <button type="submit">Verify</button>
    </form>
  )
}

function Result(props: { verdict: Verdict; approvals: readonly { text: string }[] }) {
  const v = props.verdict
  if (!v.valid)
    return (
      <section aria-labelledby="verdict">
        <h2 id="verdict">Not valid</h2>
        <p class="notice error" role="status">
          {v.reason}
        </p>
      </section>
    )
  return (
    <section aria-labelledby="verdict">
      <h2 id="verdict">Valid</h2>
      <div class="notice" role="status">
        <p>
          Signed by <strong>{v.signer}</strong> (key <code>{v.keyid}</code>).
        </p>
        <p>Checked: {v.checked}.</p>
        {v.remarks.length > 0 && (
          <ul>
            {v.remarks.map((r) => (
              <li>{r}</li>
            ))}
          </ul>
        )}
        {props.approvals.length > 0 && (
          <>
            <p>Approvals:</p>
            <ul>
              {props.approvals.map((a) => (
                <li>{a.text}</li>
              ))}
            </ul>
          </>
        )}
      </div>
      <h3>Signed statement</h3>
      <pre role="region" tabindex={0} aria-label="The signed in-toto statement">
        {JSON.stringify(v.statement, null, 2)}
      </pre>
    </section>
  )
}

/**
 * `/verify`: paste a result comment or a DSSE envelope, see what it proves (`verifyText`, the
 * checks of `uni-wizard verify`, against the house keys of the key directory; approvals against
 * the router key).
 */
export const verifyPage: DashboardPage = {
  nav: { label: 'Verify', path: '/verify' },
  register(app, deps) {
    const base = deps.config.basePath
    app.get('/verify', (c) =>
      render(c, { title: 'Verify' }, <Form base={base} csrf={c.get('session')?.csrf} />),
    )
    app.post('/verify', async (c) => {
      const csrf = c.get('session')?.csrf
      const form = VerifyForm.safeParse(await c.req.parseBody())
      if (!form.success)
        return render(
          c,
          { title: 'Verify', status: 400 },
          <>
            <p class="notice error" role="alert">
              {form.error.issues[0]?.message}
            </p>
            <Form base={base} csrf={csrf} />
          </>,
        )
      const verdict = verifyText(form.data.text, deps.trustedKeys())
      const approvals = verdict.valid ? (deps.approvalsOf?.(verdict.statement) ?? []) : []
      return render(
        c,
        { title: 'Verify' },
        <>
          <Result verdict={verdict} approvals={approvals} />
          <Form base={base} csrf={csrf} text={form.data.text} />
        </>,
      )
    })
  },
}
