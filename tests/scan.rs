//! `formpress scan`: scans made from formpress's own pages as an office
//! makes them (rendered at 200 dpi, a red seal over part of the QR code,
//! turned ±3°, noise, JPEG at quality 75, one page grey), given as a
//! scanner's PDF or as loose files in any order, are archived and verified;
//! every broken set (a page dropped, a page of another form, an unreadable
//! page, a page twice, a file that is no picture, a decompression bomb) is
//! refused with the page named, and nothing is written.
//!
//! Needs poppler-utils (pdftoppm, pdfimages, pdfinfo, pdfdetach), qpdf and
//! ImageMagick (`convert`); tests/run.sh installs them.

mod common;

use common::*;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::formpress_cli as formpress;

/// Runs a tool that must be installed; its standard output.
fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool} is not installed ({e}): run tests/run.sh, or apt-get install poppler-utils qpdf imagemagick")
    });
    assert!(out.status.success(), "{tool} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The scans every test uses, made once.
struct Set {
    dir: tempfile::TempDir,
    /// The pages of the seed form as scanned JPEG files, page 1 first.
    jpegs: Vec<PathBuf>,
    /// The seed's page 3 as a lossless grey PNG scan (no seal).
    png3: PathBuf,
    /// Page 1 of another form, scanned the same way.
    other: PathBuf,
    code: String,
}

impl Set {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn set() -> &'static Set {
    static SET: OnceLock<Set> = OnceLock::new();
    SET.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("seed.yaml"), clean_seed()).unwrap();
        std::fs::copy(root().join("forms/project-2021.yaml"), d.join("other.yaml")).unwrap();
        std::fs::copy(root().join("forms/seal-example.png"), d.join("seal.png")).unwrap();
        let (code, out) = formpress(&["render", s(&d.join("seed.yaml")), "-o", s(&d.join("seed.pdf"))]);
        assert_eq!(code, Some(0), "{out}");
        let printed = out.split("校验码 ").nth(1).unwrap()[..19].to_string();
        let (code, out) = formpress(&["render", s(&d.join("other.yaml")), "-o", s(&d.join("other.pdf"))]);
        assert_eq!(code, Some(0), "{out}");
        run("pdftoppm", &["-r", "200", "-png", s(&d.join("seed.pdf")), s(&d.join("p"))]);
        run("pdftoppm", &["-r", "200", "-png", s(&d.join("other.pdf")), s(&d.join("o"))]);
        let angles = ["3", "-3", "2", "-2"];
        let jpegs: Vec<PathBuf> = (1..=4)
            .map(|n| {
                let out = d.join(format!("scan-{n}.jpg"));
                let grey = if n == 2 { vec!["-colorspace", "Gray"] } else { vec![] };
                scan_page(&d.join(format!("p-{n}.png")), &d.join("seal.png"), angles[n - 1], &grey, &out);
                out
            })
            .collect();
        let other = d.join("other-1.jpg");
        scan_page(&d.join("o-1.png"), &d.join("seal.png"), "1", &[], &other);
        let png3 = d.join("scan-3.png");
        run(
            "convert",
            &[
                s(&d.join("p-3.png")),
                "-rotate",
                "-1",
                "-colorspace",
                "Gray",
                "-density",
                "200",
                "-units",
                "PixelsPerInch",
                s(&png3),
            ],
        );
        Set { dir, jpegs, png3, other, code: printed }
    })
}

/// A scanned page: the seal pressed over part of the QR code (bottom right),
/// turned, noisy, JPEG at quality 75, 200 dpi.
fn scan_page(page: &Path, seal: &Path, angle: &str, extra: &[&str], out: &Path) {
    let mut args = vec![s(page), "(", s(seal), "-resize", "315x315", ")", "-geometry", "+1180+1930"];
    args.extend(["-compose", "Multiply", "-composite", "-background", "white", "-rotate", angle]);
    args.extend(["-attenuate", "0.4", "+noise", "Gaussian"]);
    args.extend_from_slice(extra);
    args.extend(["-quality", "75", "-density", "200", "-units", "PixelsPerInch", s(out)]);
    run("convert", &args);
}

/// A scanner's PDF: a page per picture, each picture filling its page. A
/// JPEG is stored as it is (DCTDecode); a PNG is stored as Flate-compressed
/// grey pixels, as scanners write lossless pages.
fn scanner_pdf(pictures: &[&Path], out: &Path) {
    let mut objects: Vec<Vec<u8>> = vec![];
    let mut kids = vec![];
    let n = pictures.len();
    // Objects: 1 catalog, 2 pages, then per picture: page, image, content.
    for (i, picture) in pictures.iter().enumerate() {
        let bytes = std::fs::read(picture).unwrap();
        let (w, h, stream, filter, space) = if bytes.starts_with(b"\xFF\xD8") {
            let img = image::load_from_memory(&bytes).unwrap();
            let space = if img.color().channel_count() == 1 { "DeviceGray" } else { "DeviceRGB" };
            (img.width(), img.height(), bytes, "DCTDecode", space)
        } else {
            let img = image::load_from_memory(&bytes).unwrap().to_luma8();
            let mut z = flate2::write::ZlibEncoder::new(vec![], flate2::Compression::default());
            z.write_all(img.as_raw()).unwrap();
            (img.width(), img.height(), z.finish().unwrap(), "FlateDecode", "DeviceGray")
        };
        let (pw, ph) = (w as f64 * 72.0 / 200.0, h as f64 * 72.0 / 200.0);
        let base = 3 + 3 * i;
        kids.push(format!("{base} 0 R"));
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {pw:.2} {ph:.2}] /Resources << /XObject << /Im0 {} 0 R >> >> /Contents {} 0 R >>",
                base + 1,
                base + 2
            )
            .into_bytes(),
        );
        let mut image = format!(
            "<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /{space} /BitsPerComponent 8 /Filter /{filter} /Length {} >>\nstream\n",
            stream.len()
        )
        .into_bytes();
        image.extend_from_slice(&stream);
        image.extend_from_slice(b"\nendstream");
        objects.push(image);
        let content = format!("q {pw:.2} 0 0 {ph:.2} 0 0 cm /Im0 Do Q");
        objects.push(format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()).into_bytes());
    }
    let mut all = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).into_bytes(),
    ];
    all.extend(objects);
    std::fs::write(out, pdf_of(&all)).unwrap();
}

/// A PDF file of these objects (numbered from 1, the first the catalog), with its cross-reference table.
fn pdf_of(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = vec![];
    for (i, obj) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend_from_slice(obj);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        pdf.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    pdf
}

/// `formpress scan` with these scans against the seed's data, into `out`.
fn scan(scans: &[&Path], out: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let set = set();
    let mut args = vec!["scan"];
    args.extend(scans.iter().map(|p| s(p)));
    let data = set.path("seed.yaml");
    args.extend(["--data", s(&data), "-o", s(out), "--date", "2021-02-03"]);
    args.extend_from_slice(extra);
    formpress(&args)
}

/// The JPEG pictures of a PDF, byte for byte (`pdfimages -j`), in page order.
fn jpegs_in(pdf: &Path) -> Vec<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    run("pdfimages", &["-j", s(pdf), s(&dir.path().join("i"))]);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.iter().filter(|f| f.extension().is_some_and(|e| e == "jpg")).map(|f| std::fs::read(f).unwrap()).collect()
}

#[test]
fn a_scanners_pdf_in_any_order_is_archived_and_verified() {
    let set = set();
    let j = &set.jpegs;
    let scanned = set.path("scanner.pdf");
    // Fed in the wrong order; page 3 scanned losslessly (Flate), as some scanners do.
    scanner_pdf(&[&j[3], &set.png3, &j[0], &j[1]], &scanned);
    let out = set.path("signed.pdf");
    let (code, text) = scan(&[&scanned], &out, &[]);
    assert_eq!(code, Some(0), "{text}");
    for line in ["第 1 页 ← ", "scanner.pdf 第 3 页", "第 3 页 ← ", "scanner.pdf 第 2 页", "第 4 页 ← "]
    {
        assert!(text.contains(line), "{line}: {text}");
    }
    assert!(text.contains("第 1 页 ← ") && text.contains("scanner.pdf 第 3 页\n第 2 页 ← "), "{text}");

    // Pages in order 1…N, each scan at its own pixel size; JPEGs byte for byte.
    let list = run("pdfimages", &["-list", s(&out)]);
    let rows: Vec<Vec<&str>> = list.lines().skip(2).map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows.len(), 4, "{list}");
    let size = |p: &Path| {
        let img = image::open(p).unwrap();
        (img.width().to_string(), img.height().to_string())
    };
    for (row, (page, path)) in rows.iter().zip([(1, &j[0]), (2, &j[1]), (3, &set.png3), (4, &j[3])]) {
        assert_eq!(row[0], page.to_string(), "{list}");
        let (w, h) = size(path);
        assert_eq!((row[3], row[4]), (w.as_str(), h.as_str()), "page {page}: {list}");
        assert_eq!(row[8], if page == 3 { "image" } else { "jpeg" }, "{list}");
    }
    let archived = jpegs_in(&out);
    let original: Vec<Vec<u8>> = [0, 1, 3].iter().map(|&i| std::fs::read(&j[i]).unwrap()).collect();
    assert_eq!(archived.len(), 3);
    assert!(archived == original, "the JPEGs were re-encoded or reordered");
    // Page sizes come from the scanner's PDF (200 dpi pixels → points).
    let info = run("pdfinfo", &["-f", "1", "-l", "4", s(&out)]);
    assert!(info.contains("Pages:           4"), "{info}");

    // PDF/A-3b, metadata naming the form, the 校验码 and the scan date.
    let meta = run("pdfinfo", &["-meta", s(&out)]);
    assert!(meta.contains("<pdfaid:part>3</pdfaid:part>") && meta.contains("<pdfaid:conformance>B"), "{meta}");
    let info = run("pdfinfo", &[s(&out)]);
    assert!(info_field(&info, "Title").contains("市级部门整体绩效目标申报表"), "{info}");
    for needle in [format!("校验码 {}", set.code), "扫描日期 2021-02-03".to_string()] {
        assert!(info_field(&info, "Keywords").contains(&needle), "{needle}: {info}");
        assert!(meta.contains(&needle), "{needle}: {meta}");
    }
    assert!(info_field(&info, "CreationDate").contains("2021"), "{info}");
    run("qpdf", &["--check", s(&out)]);

    // Attached: the YAML byte for byte, the generated PDF, the manifest.
    let attached = run("pdfdetach", &["-list", s(&out)]);
    for name in ["seed.yaml", "seed.pdf", "formpress-scan.json"] {
        assert!(attached.contains(name), "{name}: {attached}");
    }
    let saved = tempfile::tempdir().unwrap();
    run("pdfdetach", &["-saveall", "-o", s(saved.path()), s(&out)]);
    assert_eq!(std::fs::read(saved.path().join("seed.yaml")).unwrap(), clean_seed().as_bytes());
    let printed = std::fs::read(saved.path().join("seed.pdf")).unwrap();
    assert_eq!(printed, std::fs::read(set.path("seed.pdf")).unwrap(), "the attached PDF is what render writes");

    let (code, text) = formpress(&["verify", s(&out)]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("第 1–4 页各一次，顺序正确"), "{text}");
    assert!(text.contains("结果：一致"), "{text}");
    let (code, text) = formpress(&["verify", s(&out), s(&set.path("other.yaml"))]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("校验码不一致"), "{text}");

    // Pages of the archive swapped after the fact: verify names them.
    let swapped = set.path("swapped.pdf");
    run("qpdf", &[s(&out), "--pages", s(&out), "2,1,3,4", "--", s(&swapped)]);
    let (code, text) = formpress(&["verify", s(&swapped)]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("页序不对：存档第 2 页是表的第 1 页"), "{text}");
    // A page dropped after the fact.
    let dropped = set.path("dropped.pdf");
    run("qpdf", &[s(&out), "--pages", s(&out), "1,2,4", "--", s(&dropped)]);
    let (code, text) = formpress(&["verify", s(&dropped)]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("第 3 页缺失"), "{text}");

    // The archive is not written over by another scan run.
    let (code, text) = scan(&[&scanned], &out, &[]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("存档 PDF，不会被覆盖"), "{text}");
}

#[test]
fn loose_files_png_and_multipage_tiff_with_the_printed_pdf() {
    let set = set();
    let j = &set.jpegs;
    // Pages 2 and 1 in one two-page TIFF, bilevel G4 as fax-style scanners
    // write (without the seal: thresholded, it would be solid black over the code).
    let tiff = set.path("pages-2-1.tif");
    let (p2, p1) = (set.path("p-2.png"), set.path("p-1.png"));
    let args = ["-background", "white", "-rotate", "1", "+repage", "-colorspace", "Gray", "-threshold", "50%"];
    run("convert", &[&[s(&p2), s(&p1)][..], &args, &["-compress", "Group4", "-density", "200", s(&tiff)]].concat());
    let out = set.path("loose.pdf");
    let pdf = set.path("seed.pdf");
    let (code, text) =
        formpress(&["scan", s(&j[3]), s(&tiff), s(&set.png3), "--pdf", s(&pdf), "-o", s(&out), "--date", "2021-02-03"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("第 1 页 ← ") && text.contains("pages-2-1.tif 第 2 页\n第 2 页 ← "), "{text}");
    let list = run("pdfimages", &["-list", s(&out)]);
    let kinds: Vec<&str> = list.lines().skip(2).map(|l| l.split_whitespace().nth(8).unwrap()).collect();
    assert_eq!(kinds, ["image", "image", "image", "jpeg"], "{list}");
    // A plain PDF carries no YAML: the archive has the PDF and the manifest.
    let attached = run("pdfdetach", &["-list", s(&out)]);
    assert!(attached.contains("seed.pdf") && !attached.contains("seed.yaml"), "{attached}");
    let (code, text) = formpress(&["verify", s(&out)]);
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = formpress(&["verify", s(&out), s(&set.path("seed.yaml"))]);
    assert_eq!(code, Some(0), "{text}");
}

/// Runs a broken set: exit 1, every expected message, and no file written.
fn refused(name: &str, scans: &[&Path], messages: &[&str]) {
    let set = set();
    let out = set.path(&format!("refused-{name}.pdf"));
    let (code, text) = scan(scans, &out, &[]);
    assert_eq!(code, Some(1), "{name}: {text}");
    for m in messages {
        assert!(text.contains(m), "{name}: «{m}» in {text}");
    }
    assert!(text.contains("未写存档"), "{name}: {text}");
    assert!(!out.exists(), "{name}: wrote {}", out.display());
}

#[test]
fn broken_scan_sets_are_refused_with_the_page_named() {
    let set = set();
    let j: Vec<&Path> = set.jpegs.iter().map(PathBuf::as_path).collect();
    refused("dropped", &[j[0], j[1], j[3]], &["第 3 页缺失"]);
    refused("twice", &[j[1], j[0], j[1], j[2], j[3]], &["第 2 页重复出现 2 次：", "scan-2.jpg、"]);
    refused(
        "other",
        &[j[0], j[1], &set.other, j[2], j[3]],
        &["other-1.jpg：属于另一份表（校验码 ", "那份表的第 1 页）"],
    );
    // The QR code painted over: the page cannot be placed.
    let blank = set.path("blank-4.jpg");
    run("convert", &[s(j[3]), "-fill", "white", "-draw", "rectangle 1200,2050 1653,2338", "-quality", "75", s(&blank)]);
    refused("unreadable", &[j[0], j[1], j[2], &blank], &["blank-4.jpg：无法识别二维码", "第 4 页缺失"]);
    // Pages of a scanner's PDF are named by page within the file.
    let mixed = set.path("mixed.pdf");
    scanner_pdf(&[j[0], &set.other, j[2], j[3]], &mixed);
    refused("mixed", &[&mixed], &["mixed.pdf 第 2 页：属于另一份表", "第 2 页缺失"]);
    // A decompression bomb: refused from its header, before it is decoded.
    let bomb = set.path("bomb.png");
    {
        let file = std::fs::File::create(&bomb).unwrap();
        let mut encoder = png::Encoder::new(file, 10_001, 10_001);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&vec![0xFF; 10_001usize.div_ceil(8) * 10_001]).unwrap();
    }
    assert!(std::fs::metadata(&bomb).unwrap().len() < 1 << 20);
    refused("bomb", &[j[0], j[1], j[2], j[3], &bomb], &["bomb.png：图像 10001×10001 像素，超过上限"]);
}

#[test]
fn inputs_that_are_not_scans_are_refused_and_nothing_is_overwritten() {
    let set = set();
    let j = &set.jpegs;
    let out = set.path("kept.pdf");
    std::fs::write(&out, b"an earlier file").unwrap();
    let text_file = set.path("notes.txt");
    std::fs::write(&text_file, "not a picture").unwrap();
    let (code, text) = scan(&[&j[0], &text_file], &out, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("notes.txt：不是 PDF、JPEG、PNG 或 TIFF 文件"), "{text}");
    let (code, text) = scan(&[&j[0], &set.path("missing.jpg")], &out, &[]);
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("missing.jpg"), "{text}");
    // The output may not be an input.
    let (code, text) = scan(&[&j[0], &j[1], &j[2], &j[3]], &j[0], &[]);
    assert_eq!(code, Some(2), "{text}");
    let data = set.path("seed.yaml");
    let (code, text) = formpress(&["scan", s(&j[0]), "--data", s(&data), "-o", s(&out), "--date", "2021-13-40"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("日期应写作 YYYY-MM-DD"), "{text}");
    assert_eq!(std::fs::read(&out).unwrap(), b"an earlier file");
    // A draft cannot be filed: it has no 校验码.
    let draft = set.path("draft.yaml");
    std::fs::write(&draft, seed()).unwrap();
    let (code, text) = formpress(&["scan", s(&j[0]), "--data", s(&draft), "-o", s(&set.path("draft.pdf"))]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("只能打印草稿"), "{text}");
}

/// `formpress scan FILE --data seed.yaml -o OUT` under an address-space limit and a hang guard.
fn scan_bounded(file: &Path, out: &Path) -> (Option<i32>, String) {
    let data = out.with_file_name("seed.yaml");
    std::fs::write(&data, clean_seed()).unwrap();
    let script = "ulimit -v 1500000; exec timeout 60 \"$0\" scan \"$1\" --data \"$2\" -o \"$3\" --no-system-fonts";
    let run = Command::new("sh")
        .args(["-c", script, env!("CARGO_BIN_EXE_formpress")])
        .args([file, &data, out])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stderr).into_owned() + &String::from_utf8_lossy(&run.stdout);
    assert_ne!(run.status.code(), Some(124), "scan of {} ran past a minute: {text}", file.display());
    (run.status.code(), text)
}

/// A PDF whose one page, a 8000×8000 grey picture, is listed `times` times in the page tree.
fn one_page_listed(times: usize) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(vec![], flate2::Compression::best());
    let row = vec![255u8; 8000];
    for _ in 0..8000 {
        z.write_all(&row).unwrap();
    }
    let pixels = z.finish().unwrap();
    let kids = vec!["3 0 R"; times].join(" ");
    let content = b"q 576 0 0 576 0 0 cm /Im0 Do Q";
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!("<< /Type /Pages /Kids [{kids}] /Count {times} >>").into_bytes(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 576 576] /Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>"
            .to_vec(),
    ];
    let mut image = format!(
        "<< /Type /XObject /Subtype /Image /Width 8000 /Height 8000 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length {} >>\nstream\n",
        pixels.len()
    )
    .into_bytes();
    image.extend_from_slice(&pixels);
    image.extend_from_slice(b"\nendstream");
    objects.push(image);
    let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
    stream.extend_from_slice(content);
    stream.extend_from_slice(b"\nendstream");
    objects.push(stream);
    pdf_of(&objects)
}

/// A TIFF of `frames` frames of 8400×8400 grey pixels that all share one Deflate strip.
fn frames_sharing_one_strip(frames: u32) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(vec![], flate2::Compression::best());
    let row = vec![255u8; 8400];
    for _ in 0..8400 {
        z.write_all(&row).unwrap();
    }
    let strip = z.finish().unwrap();
    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    let entries = 9u16;
    let ifd_len = 2 + 12 * u32::from(entries) + 4;
    let strip_at = 8 + frames * ifd_len;
    for f in 0..frames {
        let next = if f + 1 < frames { 8 + (f + 1) * ifd_len } else { 0 };
        tiff.extend_from_slice(&entries.to_le_bytes());
        let short = |tag: u16, v: u16| {
            [&tag.to_le_bytes()[..], &3u16.to_le_bytes(), &1u32.to_le_bytes(), &(v as u32).to_le_bytes()].concat()
        };
        let long = |tag: u16, v: u32| {
            [&tag.to_le_bytes()[..], &4u16.to_le_bytes(), &1u32.to_le_bytes(), &v.to_le_bytes()].concat()
        };
        for entry in [
            long(256, 8400),               // ImageWidth
            long(257, 8400),               // ImageLength
            short(258, 8),                 // BitsPerSample
            short(259, 8),                 // Compression: Deflate
            short(262, 1),                 // BlackIsZero
            long(273, strip_at),           // StripOffsets: the one strip
            short(277, 1),                 // SamplesPerPixel
            long(278, 8400),               // RowsPerStrip
            long(279, strip.len() as u32), // StripByteCounts
        ] {
            tiff.extend_from_slice(&entry);
        }
        tiff.extend_from_slice(&next.to_le_bytes());
    }
    tiff.extend_from_slice(&strip);
    tiff
}

#[test]
fn hostile_scans_are_refused_from_their_headers_before_anything_is_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.pdf");
    let pdf = dir.path().join("listed.pdf");
    std::fs::write(&pdf, one_page_listed(2000)).unwrap();
    let (code, text) = scan_bounded(&pdf, &out);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("扫描件超过 500 页"), "{text}");
    let tiff = dir.path().join("frames.tif");
    std::fs::write(&tiff, frames_sharing_one_strip(10_000)).unwrap();
    let (code, text) = scan_bounded(&tiff, &out);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("扫描件超过 500 页"), "{text}");
    // Fewer frames, but more pixels than a scan file may hold.
    std::fs::write(&tiff, frames_sharing_one_strip(40)).unwrap();
    let (code, text) = scan_bounded(&tiff, &out);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("合计超过 20 亿像素"), "{text}");
    assert!(!out.exists());
}

/// A page of the seed changed before it is scanned: `draw` is ImageMagick's
/// arguments on the 200 dpi page; scanned like the others (seal, turn, noise, JPEG).
fn forged_page(name: &str, page: usize, draw: &[&str], angle: &str, grey: bool) -> PathBuf {
    let set = set();
    let changed = set.path(&format!("{name}.png"));
    let source = set.path(&format!("p-{page}.png"));
    run("convert", &[&[s(&source)][..], draw, &[s(&changed)]].concat());
    let out = set.path(&format!("{name}.jpg"));
    let extra: &[&str] = if grey { &["-colorspace", "Gray"] } else { &[] };
    scan_page(&changed, &set.path("seal.png"), angle, extra, &out);
    out
}

/// A font ImageMagick can write with on any machine: the bundled one.
fn font() -> String {
    root().join("fonts/NotoSansCJKsc-Regular.otf").display().to_string()
}

/// Where a word of the seed's page stands at 200 dpi: (left, middle) in pixels.
fn word_at(page: usize, text: &str) -> (usize, usize) {
    let set = set();
    let w = words(&std::fs::read(set.path("seed.pdf")).unwrap(), page);
    let found = w.iter().find(|w| w.0 == text).unwrap_or_else(|| panic!("{text} not on page {page}"));
    ((found.1 * 200.0 / 72.0) as usize, (found.2 * 200.0 / 72.0) as usize)
}

/// Page 1 with 3600.4 written over by hand as 8600.4 (blue pen, colour scan).
fn digit_written_over(name: &str, angle: &str) -> PathBuf {
    let (x, y) = word_at(1, "3600.4");
    let at = format!("+{}+{}", x - 1, y + 14);
    forged_page(
        name,
        1,
        &["-font", &font(), "-fill", "#1c2a7a", "-pointsize", "40", "-annotate", &at, "8"],
        angle,
        false,
    )
}

#[test]
fn scans_that_show_something_else_than_the_form_are_refused_by_cell() {
    let set = set();
    let j: Vec<&Path> = set.jpegs.iter().map(PathBuf::as_path).collect();
    let digit = digit_written_over("digit", "2");
    refused(
        "digit",
        &[&digit, j[1], j[2], j[3]],
        &["digit.jpg：与表单不符", "第 1 页，「任务1」行「合计」栏（印着「3600.4」）：扫描件上多了字迹或涂改"],
    );
    // A row struck out with a pen (grey scan).
    let (_, y) = word_at(1, "任务2");
    let line = format!("line 170,{y} 1480,{}", y + 6);
    let strike = forged_page("strike", 1, &["-stroke", "#101840", "-strokewidth", "4", "-draw", &line], "-2", true);
    // Named by every cell of the row it crosses.
    let crossed = ["「任务2」行「合计」栏", "「任务2」行「其中：财政资金」栏", "「任务2」行「备注」栏"];
    refused("strike", &[&strike, j[1], j[2], j[3]], &[&["strike.jpg：与表单不符"][..], &crossed].concat());
    // A blank page that carries only this page's QR code.
    let footer = set.path("footer-4.png");
    run("convert", &[s(&set.path("p-4.png")), "-crop", "480x180+1180+2160", "+repage", s(&footer)]);
    let blank = forged_page(
        "blank",
        4,
        &["-fill", "white", "-draw", "rectangle 0,0 9999,9999", s(&footer), "-geometry", "+1180+2160", "-composite"],
        "-2",
        false,
    );
    refused("blank", &[j[0], j[1], j[2], &blank], &["blank.jpg：与表单不符", "印好的内容在扫描件上看不到"]);
    // A page of another form with this form's page-1 QR code pasted on.
    let code1 = set.path("footer-1.png");
    run("convert", &[s(&set.path("p-1.png")), "-crop", "480x180+1180+2160", "+repage", s(&code1)]);
    let other = set.path("other-with-code.png");
    run("convert", &[s(&set.path("o-1.png")), s(&code1), "-geometry", "+1180+2160", "-composite", s(&other)]);
    let pasted = set.path("pasted.jpg");
    scan_page(&other, &set.path("seal.png"), "1", &[], &pasted);
    refused("pasted", &[&pasted, j[1], j[2], j[3]], &["pasted.jpg：与表单不符"]);
}

#[test]
fn accepted_changes_are_filed_and_recorded_and_verify_still_names_them() {
    let set = set();
    let j: Vec<&Path> = set.jpegs.iter().map(PathBuf::as_path).collect();
    let digit = digit_written_over("digit-ok", "3");
    let out = set.path("accepted.pdf");
    let (code, text) = scan(&[&digit, j[1], j[2], j[3]], &out, &["--accept-changes"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("⚠ 已接受并记入存档的改动：") && text.contains("digit-ok.jpg：第 1 页，「任务1」行「合计」栏"),
        "{text}"
    );
    let saved = tempfile::tempdir().unwrap();
    run("pdfdetach", &["-saveall", "-o", s(saved.path()), s(&out)]);
    let manifest = std::fs::read_to_string(saved.path().join("formpress-scan.json")).unwrap();
    assert!(manifest.contains("accepted_changes") && manifest.contains("「任务1」行「合计」栏"), "{manifest}");
    let (code, text) = formpress(&["verify", s(&out)]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("「任务1」行「合计」栏") && text.contains("扫描时以 --accept-changes 接受并记录"), "{text}");
}

#[test]
fn a_qr_code_made_from_the_printed_code_is_not_the_form() {
    let set = set();
    let j: Vec<&Path> = set.jpegs.iter().map(PathBuf::as_path).collect();
    // The 16 printed digits padded with zeros, drawn where the page's code was.
    let padded = format!("FP1:{}{}:1", set.code.replace('-', ""), "0".repeat(48));
    let qr = qrcode::QrCode::with_error_correction_level(padded.as_bytes(), qrcode::EcLevel::Q).unwrap();
    let (n, colours) = (qr.width() as u32, qr.to_colors());
    let module = 4;
    let drawn = image::GrayImage::from_fn((n + 2) * module, (n + 2) * module, |x, y| {
        let (mx, my) = ((x / module).wrapping_sub(1), (y / module).wrapping_sub(1));
        let dark = mx < n && my < n && colours[(my * n + mx) as usize] == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    });
    let code_png = set.path("padded-code.png");
    drawn.save(&code_png).unwrap();
    let page = set.path("padded-1.png");
    run(
        "convert",
        &[
            s(&set.path("p-1.png")),
            "-fill",
            "white",
            "-draw",
            "rectangle 1180,2160 1653,2338",
            s(&code_png),
            "-geometry",
            "+1400+2170",
            "-composite",
            s(&page),
        ],
    );
    let scanned = set.path("padded-1.jpg");
    run("convert", &[s(&page), "-quality", "90", "-density", "200", "-units", "PixelsPerInch", s(&scanned)]);
    let out = set.path("padded.pdf");
    let pdf = set.path("seed.pdf");
    let (code, text) = formpress(&["scan", s(&scanned), s(j[1]), s(j[2]), s(j[3]), "--pdf", s(&pdf), "-o", s(&out)]);
    assert_eq!(code, Some(1), "{text}");
    // Refused either way: read as another form's code, or not read at all (rqrr reads
    // modules of 4 pixels at some pixel phases only).
    let refused = text.contains("padded-1.jpg：属于另一份表") || text.contains("padded-1.jpg：无法识别二维码");
    assert!(refused && !out.exists(), "{text}");
}

#[test]
fn signatures_and_seals_in_the_signature_area_and_across_the_edge_are_expected() {
    let set = set();
    let d = set.path("signed-form");
    std::fs::create_dir_all(&d).unwrap();
    let yaml = clean_seed()
        .replace("goals:\n", "signature:\n  unit: 郑州市人民政府办公厅\n  head: 张三\n  date: 2020-03-06\ngoals:\n");
    std::fs::write(d.join("form.yaml"), yaml).unwrap();
    let pdf = d.join("form.pdf");
    let (code, out) = formpress(&["render", s(&d.join("form.yaml")), "-o", s(&pdf)]);
    assert_eq!(code, Some(0), "{out}");
    run("pdftoppm", &["-r", "200", "-png", s(&pdf), s(&d.join("p"))]);
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("p-"))
        .collect();
    pages.sort();
    let last = pages.len();
    let unit = words(&std::fs::read(&pdf).unwrap(), last)
        .into_iter()
        .find(|w| w.0.contains("填报单位"))
        .expect("the 签章区 on the last page");
    let (x, y) = ((unit.1 * 200.0 / 72.0) as i64, (unit.2 * 200.0 / 72.0) as i64);
    let seal = set.path("seal.png");
    let mut scans = vec![];
    for (i, page) in pages.iter().enumerate() {
        let width = image::image_dimensions(page).unwrap().0 as i64;
        // A 骑缝章 slice on the right edge of every page.
        let mut args: Vec<String> =
            [s(page), "(", s(&seal), "-resize", "315x315", ")"].iter().map(|a| a.to_string()).collect();
        args.extend(["-geometry".into(), format!("+{}+900", width - 150), "-compose".into(), "Multiply".into()]);
        args.push("-composite".into());
        if i + 1 == last {
            // The unit's seal over its name, and a signature written above the 填报日期 line.
            args.extend(["(".into(), s(&seal).into(), "-resize".into(), "315x315".into(), ")".into()]);
            args.extend(["-geometry".into(), format!("+{}+{}", x + 60, y - 200), "-composite".into()]);
            let stroke = format!(
                "bezier {},{} {},{} {},{} {},{}",
                x + 800,
                y - 40,
                x + 900,
                y - 160,
                x + 950,
                y + 20,
                x + 1150,
                y - 90
            );
            args.extend([
                "-fill".into(),
                "none".into(),
                "-stroke".into(),
                "#202070".into(),
                "-strokewidth".into(),
                "4".into(),
            ]);
            args.extend(["-draw".into(), stroke]);
        }
        let marked = d.join(format!("m-{}.png", i + 1));
        args.push(s(&marked).into());
        run("convert", &args.iter().map(String::as_str).collect::<Vec<_>>());
        let out = d.join(format!("scan-{}.jpg", i + 1));
        let grey: &[&str] = if i % 2 == 1 { &["-colorspace", "Gray"] } else { &[] };
        let mut args =
            vec![s(&marked), "-background", "white", "-rotate", "1.5", "-attenuate", "0.4", "+noise", "Gaussian"];
        args.extend_from_slice(grey);
        args.extend(["-quality", "75", "-density", "200", "-units", "PixelsPerInch", s(&out)]);
        run("convert", &args);
        scans.push(out);
    }
    let archive = d.join("signed.pdf");
    let mut args = vec!["scan"];
    args.extend(scans.iter().map(|p| s(p)));
    let data = d.join("form.yaml");
    args.extend(["--data", s(&data), "-o", s(&archive), "--date", "2021-02-03"]);
    let (code, text) = formpress(&args);
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains("已接受"), "{text}");
    // With the printed PDF alone (no data at hand), the 签章区 is found by its label line.
    let from_pdf = d.join("signed-from-pdf.pdf");
    let mut args = vec!["scan"];
    args.extend(scans.iter().map(|p| s(p)));
    args.extend(["--pdf", s(&pdf), "-o", s(&from_pdf), "--date", "2021-02-03"]);
    let (code, text) = formpress(&args);
    assert_eq!(code, Some(0), "{text}");
}

/// A form with a seal picture: its scan archive carries the picture, so the
/// archive alone verifies; the archive records the scans' file names, never
/// the folders they were in; and an attached form that cannot be rebuilt is
/// reported with its structural error named.
#[test]
fn a_form_with_a_seal_is_archived_verified_and_names_only_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("本地 文件夹");
    std::fs::create_dir(&d).unwrap();
    std::fs::copy(root().join("forms/mof-dept-overall-2021.yaml"), d.join("form.yaml")).unwrap();
    std::fs::copy(root().join("forms/seal-example.png"), d.join("seal-example.png")).unwrap();
    assert!(std::fs::read_to_string(d.join("form.yaml")).unwrap().contains("seal: seal-example.png"));
    let (code, out) = formpress(&["render", s(&d.join("form.yaml")), "-o", s(&d.join("form.pdf"))]);
    assert_eq!(code, Some(0), "{out}");
    run("pdftoppm", &["-r", "200", "-png", s(&d.join("form.pdf")), s(&d.join("p"))]);
    let mut scans: Vec<PathBuf> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("p-"))
        .collect();
    scans.sort();
    for page in &scans {
        let jpeg = page.with_extension("jpg");
        run("convert", &[s(page), "-quality", "75", "-density", "200", "-units", "PixelsPerInch", s(&jpeg)]);
    }
    let jpegs: Vec<PathBuf> = scans.iter().map(|p| p.with_extension("jpg")).collect();
    let (signed, data) = (d.join("signed.pdf"), d.join("form.yaml"));
    let mut args = vec!["scan"];
    args.extend(jpegs.iter().map(|p| s(p)));
    args.extend(["--data", s(&data), "-o", s(&signed), "--date", "2021-02-03"]);
    let (code, text) = formpress(&args);
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = formpress(&["verify", s(&signed)]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("结果：一致"), "{text}");

    // The picture is attached; nothing attached or in the metadata names the local folder.
    let attached = run("pdfdetach", &["-list", s(&signed)]);
    assert!(attached.contains("seal-example.png") && attached.contains("formpress-scan.json"), "{attached}");
    let saved = tempfile::tempdir().unwrap();
    run("pdfdetach", &["-saveall", "-o", s(saved.path()), s(&signed)]);
    let folder = d.to_string_lossy().into_owned();
    let manifest = std::fs::read_to_string(saved.path().join("formpress-scan.json")).unwrap();
    assert!(manifest.contains("\"p-1.jpg\"") || manifest.contains("p-1.jpg"), "{manifest}");
    for entry in std::fs::read_dir(saved.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(&folder), "{manifest}");
        assert!(!String::from_utf8_lossy(&bytes).contains("本地 文件夹"), "{manifest}");
    }
    let meta = run("pdfinfo", &["-meta", s(&signed)]) + &run("pdfinfo", &[s(&signed)]);
    assert!(!meta.contains("本地 文件夹"), "{meta}");

    // Without its picture the attached form cannot be rebuilt: verify says which cell and why.
    let broken = d.join("broken.pdf");
    run("qpdf", &[s(&signed), s(&broken), "--remove-attachment=seal-example.png"]);
    let (code, text) = formpress(&["verify", s(&broken)]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("结构性错误") && text.contains("signature.seal") && text.contains("seal-example.png"),
        "{text}"
    );
}
