//! Property: any string passed through the escaper is laid out literally.
//! Checked on Typst's own layout (the text of the laid-out frames), so the
//! test covers the markup parser, not just the escaping function.

use formpress::form::values::normalize;
use formpress::layout::fonts::{FontOptions, Fonts};
use formpress::layout::template::markup_str;
use formpress::layout::world::FormWorld;
use proptest::prelude::*;
use std::sync::OnceLock;
use typst::foundations::Datetime;
use typst::layout::{Frame, FrameItem};

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| Fonts::load(&FontOptions::default()))
}

fn text_of(frame: &Frame, out: &mut String) {
    for (_, item) in frame.items() {
        match item {
            FrameItem::Group(g) => text_of(&g.frame, out),
            FrameItem::Text(t) => out.push_str(&t.text),
            _ => {}
        }
    }
}

/// Lays out `prefix<escaped s>suffix` and returns the text Typst set.
fn laid_out(s: &str) -> Result<String, String> {
    // Template text right after the value must stay text too (`.len()`, `[x]`).
    let markup = format!("#set text(font: \"Noto Serif CJK SC\")\n甲{}.len()[x](y)乙\n", markup_str(s));
    let world = FormWorld::new(fonts(), markup, Datetime::from_ymd(2020, 1, 1).unwrap());
    let doc = formpress::layout::pdf::compile(&world).map_err(|d| format!("{d:?}"))?;
    let mut out = String::new();
    for page in doc.pages() {
        text_of(&page.frame, &mut out);
    }
    Ok(out)
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_string_comes_out_literally(s in "[ -~\\t\\n\\r\u{4e00}-\u{4e3f}，。；：“”（）《》【】、\u{7}\u{1b}\u{202e}]{0,60}") {
        let got = laid_out(&s).map_err(TestCaseError::fail)?;
        let want = format!("甲{}.len()[x](y)乙", normalize(&s));
        prop_assert_eq!(squash(&got), squash(&want));
    }
}

#[test]
fn hand_picked_strings_come_out_literally() {
    for s in [
        "#read(\"/etc/passwd\")",
        "\\",
        "\"",
        "*a* _b_ `c` $d$",
        "<l> @r",
        "// c",
        "/* c",
        "= h",
        "- i",
        "+ e",
        "/ t: d",
        "1. n",
        "]",
        "}",
        "#",
        "{{ x }}",
        "--- ... 'x'",
    ] {
        let got = laid_out(s).unwrap();
        assert_eq!(squash(&got), squash(&format!("甲{s}.len()[x](y)乙")), "{s:?}");
    }
}
