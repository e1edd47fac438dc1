//! Pictures of the pages: every example and a dozen corpus forms, rendered
//! and drawn at 50 dpi by pdftoppm, compared with the reference pictures in
//! tests/pictures/ within a tolerance for anti-aliasing. A layout change
//! shows as a difference that someone looks at and accepts on purpose:
//! `FP_BLESS=1 cargo test --release --test pictures` writes the new pictures
//! (look at them, and at `git diff --stat tests/pictures`, before committing).

mod common;

use std::path::{Path, PathBuf};

const DPI: u32 = 50;
/// A pixel differs when a channel moves by more than this (anti-aliasing moves less).
const CHANNEL: i32 = 64;
/// A page differs when more pixels than this do (another version of poppler may
/// move a few anti-aliased pixels; a changed word or rule moves more).
const PIXELS: usize = 24;

/// The corpus forms pictured: one or more of each kind, regional layouts, blank templates.
const CORPUS: &[&str] = &[
    "anhui-chizhou-guichi-tangxi-2022-project-self-eval",
    "anhui-huaibei-wenlvti-2025-project",
    "anhui-shouxian-2023-dept-self-eval",
    "guangxi-gxglmes-2021-project-blank",
    "heilongjiang-daqing-project-blank",
    "shaanxi-baoji-chencang-canlian-2023-project",
    "shanxi-yangquan-gonglu-2021-project",
    "sichuan-qingshen-fgj-2023-project-self-eval",
    "sichuan-guangyuan-zhaohua-2021-project",
    "shaanxi-jiaxian-2016-project-blank",
    "chongqing-fengjie-yunwu-2023-project",
    "hunan-yueyanglou-jiagerenzheng-2023-dept-overall",
    "henan-zhengzhou-2020-dept-overall",
    "fujian-ningde-dangshi-fangzhi-2019-dept-overall",
];

fn forms() -> Vec<PathBuf> {
    let root = common::root();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("forms"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for name in CORPUS {
        let path = root.join("tests/real").join(format!("{name}.yaml"));
        assert!(path.exists(), "{} is gone: picture another corpus form", path.display());
        files.push(path);
    }
    files
}

fn reference(stem: &str, page: usize) -> PathBuf {
    common::root().join("tests/pictures").join(format!("{stem}-{page}.png"))
}

fn write_png(path: &Path, w: usize, h: usize, rgb: &[u8]) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut encoder = png::Encoder::new(file, w as u32, h as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header().unwrap().write_image_data(rgb).unwrap();
}

fn read_png(path: &Path) -> Option<(usize, usize, Vec<u8>)> {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).ok()?));
    let mut reader = decoder.read_info().ok()?;
    let mut buf = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buf).ok()?;
    buf.truncate(info.buffer_size());
    Some((info.width as usize, info.height as usize, buf))
}

/// How many pixels differ, or None when the sizes differ.
fn differing(a: &(usize, usize, Vec<u8>), b: &(usize, usize, Vec<u8>)) -> Option<usize> {
    if (a.0, a.1) != (b.0, b.1) {
        return None;
    }
    let changed =
        a.2.chunks_exact(3)
            .zip(b.2.chunks_exact(3))
            .filter(|(p, q)| p.iter().zip(q.iter()).any(|(x, y)| (i32::from(*x) - i32::from(*y)).abs() > CHANNEL))
            .count();
    Some(changed)
}

#[test]
fn every_page_looks_as_its_reference_picture() {
    let bless = std::env::var_os("FP_BLESS").is_some();
    let engine = common::engine();
    let files = forms();
    assert!(files.len() >= 5 + 10, "only {} forms pictured", files.len());
    let mut failures = vec![];
    for file in &files {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let form = engine.check_file(file).unwrap();
        let rendered = engine.render(&form, &formpress::RenderOptions::default()).unwrap();
        let mut pdf = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
        std::io::Write::write_all(&mut pdf, &rendered.pdf).unwrap();
        let pages = common::raster(pdf.path(), DPI);
        if bless {
            std::fs::create_dir_all(common::root().join("tests/pictures")).unwrap();
            for (i, (w, h, rgb)) in pages.iter().enumerate() {
                write_png(&reference(&stem, i + 1), *w, *h, rgb);
            }
            let _ = std::fs::remove_file(reference(&stem, pages.len() + 1));
            continue;
        }
        if reference(&stem, pages.len() + 1).exists() {
            failures.push(format!("{stem}: {} pages, its reference has more", pages.len()));
        }
        for (i, page) in pages.iter().enumerate() {
            let Some(want) = read_png(&reference(&stem, i + 1)) else {
                failures.push(format!("{stem} page {}: no reference picture", i + 1));
                continue;
            };
            match differing(page, &want) {
                None => failures.push(format!("{stem} page {}: another page size", i + 1)),
                Some(n) if n > PIXELS => failures.push(format!("{stem} page {}: {n} pixels differ", i + 1)),
                Some(_) => {}
            }
        }
    }
    assert!(
        failures.is_empty(),
        "the pages differ from tests/pictures/ (FP_BLESS=1 writes new ones; look at them first):\n{}",
        failures.join("\n")
    );
}

/// The comparison sees one changed digit of an amount, and nothing when
/// the same page is drawn twice.
#[test]
fn a_changed_amount_shows_in_the_picture() {
    let engine = common::engine();
    let text = std::fs::read_to_string(common::root().join("forms/project-2021.yaml")).unwrap();
    let draw = |yaml: &str| {
        let form = engine.check("p.yaml", yaml.as_bytes());
        let rendered = engine.render(&form, &formpress::RenderOptions::default()).unwrap();
        let mut pdf = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
        std::io::Write::write_all(&mut pdf, &rendered.pdf).unwrap();
        common::raster(pdf.path(), DPI).remove(0)
    };
    assert!(text.contains("9360"));
    let (a, b) = (draw(&text), draw(&text.replacen("9360", "8360", 1)));
    let n = differing(&a, &b).unwrap();
    assert!(n > PIXELS, "{n} pixels differ");
    assert_eq!(differing(&a, &draw(&text)), Some(0));
}
