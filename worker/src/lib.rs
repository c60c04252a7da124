//! placeholder, replaced by the gateway work
use worker::*;

#[event(fetch)]
async fn fetch(req: Request, _env: Env, _ctx: Context) -> Result<Response> {
    if req.path() == "/panic" {
        panic!("boom");
    }
    Response::ok("ok")
}
