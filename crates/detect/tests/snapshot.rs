//! Every detector over one story (see `common::story`), as JSON.

mod common;

use common::*;

#[test]
fn the_breach_story_gives_these_alerts() {
    let org = org_with(STORY_SETTINGS);
    let (flows, contexts) = story();
    let alerts = run_with_context(&org, &[], &flows, &contexts);
    insta::assert_json_snapshot!(alerts);
}
