//! Any text as a PromQL query: `promql::parse` refuses it with a positioned
//! error or gives a tree whose printed form parses again (the printer never
//! writes a query the parser refuses), multi-line form included.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let expr = match promql::parse(s) {
        Ok(e) => e,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let printed = expr.to_string();
    if let Err(e) = promql::parse(&printed) {
        panic!("{s:?} printed as {printed:?}, which does not parse: {e}");
    }
    let pretty = promql::pretty(&expr);
    if let Err(e) = promql::parse(&pretty) {
        panic!("{s:?} pretty-printed as {pretty:?}, which does not parse: {e}");
    }
});
