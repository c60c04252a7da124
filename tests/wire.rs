//! `engine::completion_wire` (the gateway's non-stream path) against `engine::completion` on
//! every non-stream chat fixture: the same upstream requests, the same errors, and a body that
//! reads back as the same response. Bodies an OpenAI-format upstream sent that need no
//! rewriting go out byte for byte; the rest are the typed response serialized.

mod support;

use edgellm::{engine, options, ChatResponse};
use support::fixture::*;

#[test]
fn wire_answers_say_what_typed_answers_say() {
    let (mut checked, mut forwarded) = (0, 0);
    let mut problems = Vec::new();
    for dir in scenario_dirs() {
        let input = read_input(&dir).unwrap();
        if input.stream || input.call.as_deref().is_some_and(|c| c != "chat") {
            continue;
        }
        let replies = read_replies(&dir).unwrap();
        let name = name_of(&dir);
        let run = |wire: bool| {
            let host = mock_host(&replies, input.now_ms, None);
            let out = futures_executor::block_on(async {
                let (req, opts) = options::parse_chat(input.request.clone())?;
                if wire {
                    engine::completion_wire(&host, &input.env, req, opts)
                        .await
                        .map(|w| (w.body, Some((w.model, w.usage))))
                } else {
                    engine::completion(&host, &input.env, req, opts)
                        .await
                        .map(|c| (serde_json::to_vec(&c.response).unwrap(), None))
                }
            });
            let sent = host.requests.borrow().clone();
            (out, sent)
        };
        let ((typed, typed_sent), (wire, wire_sent)) = (run(false), run(true));
        if typed_sent != wire_sent {
            problems.push(format!("{name}: the upstream requests differ"));
        }
        checked += 1;
        match (typed, wire) {
            (Err(a), Err(b)) => {
                if a != b {
                    problems.push(format!("{name}: errors differ: {a:?} vs {b:?}"));
                }
            }
            (Ok((typed, _)), Ok((wire, Some((model, usage))))) => {
                let want: ChatResponse = serde_json::from_slice(&typed).unwrap();
                let got: ChatResponse = match serde_json::from_slice(&wire) {
                    Ok(r) => r,
                    Err(e) => {
                        problems.push(format!("{name}: the wire body does not parse: {e}"));
                        continue;
                    }
                };
                if got != want || model != want.model || usage != want.usage {
                    problems.push(format!("{name}: responses differ:\n{want:?}\n{got:?}"));
                }
                if replies.last().is_some_and(|r| r.2 == wire) {
                    forwarded += 1;
                }
            }
            (a, b) => problems.push(format!(
                "{name}: one failed: typed {:?} / wire {:?}",
                a.err(),
                b.err()
            )),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked > 20, "only {checked} scenarios");
    // OpenAI-format fixtures copy the providers' docs, which carry every field: most of them go
    // through untouched.
    assert!(forwarded > 5, "only {forwarded} of {checked} forwarded");
    eprintln!("{forwarded} of {checked} non-stream chat scenarios forwarded as sent");
}
