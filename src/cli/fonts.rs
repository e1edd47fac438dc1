//! `formpress fonts`: the fonts found, and for each kind which face each of
//! its font lists resolves to (is 仿宋 installed, or does it fall back?).

use std::process::ExitCode;

use formpress::layout::fonts::Source;

use super::common::{CommonArgs, engine, shown};

/// How a face's origin is said.
fn origin(source: &Source) -> String {
    match source {
        Source::Bundled(name) => format!("内置（{name}）"),
        Source::File(path) => shown(path),
    }
}

/// The roles a kind's `fonts:` lists are for, as a person calls them.
fn role(key: &str) -> &str {
    match key {
        "title" => "标题",
        "heading" => "表头",
        "body" => "正文",
        other => other,
    }
}

pub(super) fn run(args: CommonArgs) -> ExitCode {
    let engine = match engine(&args) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let fonts = engine.fonts();
    let faces = fonts.faces();
    say!("找到的字体（{} 个）：", faces.len());
    for face in &faces {
        let index = if face.index > 0 { format!(" #{}", face.index) } else { String::new() };
        let weight = match face.variant.as_str() {
            "400" => "常规".to_string(),
            "700" => "粗体".to_string(),
            other => format!("字重 {other}"),
        };
        say!("  {}  {weight}  {}{index}", face.families.join(" / "), origin(&face.source));
    }
    say!("");
    say!("各表单种类用的字体：");
    for kind in engine.catalog().kinds() {
        say!("  {}（{}）", kind.id, kind.manifest.name);
        for (key, wanted) in &kind.manifest.fonts {
            let line = match fonts.resolve(wanted) {
                Some(found) => {
                    let missing: Vec<&str> = wanted.iter().map(String::as_str).take_while(|f| *f != found).collect();
                    let mut from: Vec<String> = vec![];
                    for source in fonts.sources(found) {
                        let said = match source {
                            Source::Bundled(_) => "内置".to_string(),
                            Source::File(path) => shown(path),
                        };
                        if !from.contains(&said) {
                            from.push(said);
                        }
                    }
                    let fallback = if missing.is_empty() {
                        String::new()
                    } else {
                        format!("；未找到 {}", missing.join("、"))
                    };
                    format!("{found}（{}{fallback}）", from.join("、"))
                }
                None => format!("都未找到（{}）；用内置字体中能显示的", wanted.join("、")),
            };
            say!("    {}：{line}", role(key));
        }
    }
    ExitCode::SUCCESS
}
