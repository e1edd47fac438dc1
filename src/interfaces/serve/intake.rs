//! What the page brings into the folder: a workbook a bureau sent (the
//! `import` path: .xlsx, .xls, .et → a new YAML), a seal picture for the
//! 签章区 (checked as a form's `seal:` picture is), and a copy of a form for
//! the next year. None of them ever replaces a file that exists.

use std::path::Path;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use axum::http::StatusCode;

use super::App;
use super::folder::FolderError;
use super::routes::{Refusal, no};
use super::yamledit::{self, Data};
use crate::files::write::{Content, Outputs};
use crate::form::kind::{Field, FieldType};
use crate::form::{schema, yaml};

/// A file the page sends: its name as the user's machine had it, and its bytes in base64.
#[derive(Deserialize)]
pub struct Upload {
    pub file: String,
    pub content: String,
}

impl Upload {
    fn bytes(&self) -> Result<Vec<u8>, Refusal> {
        base64::engine::general_purpose::STANDARD
            .decode(self.content.as_bytes())
            .map_err(|_| no(StatusCode::BAD_REQUEST, "上传的文件内容无法读取"))
    }

    /// The file name's extension, lower case.
    fn ext(&self) -> String {
        Path::new(&self.file).extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase()
    }

    /// The file name without folders or extension, as a form name can hold it.
    fn stem(&self) -> String {
        let base = self.file.rsplit(['/', '\\']).next().unwrap_or("");
        let stem = Path::new(base).file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let clean: String =
            stem.chars().filter(|c| !c.is_control() && !matches!(c, '/' | '\\' | ':')).collect::<String>();
        let clean = clean.trim_start_matches('.').trim();
        if clean.is_empty() { "导入的表单".into() } else { clean.chars().take(80).collect() }
    }
}

/// Reads a workbook into a new form of the folder (named after the workbook,
/// or `name`), as `formpress import` does; never over an existing file.
pub fn import(app: &App, upload: &Upload, name: Option<&str>) -> Result<Json, Refusal> {
    let ext = upload.ext();
    if !["xlsx", "xls", "et", "xlsm"].contains(&ext.as_str()) {
        return Err(no(StatusCode::BAD_REQUEST, "只能导入 .xlsx、.xls 或 .et 表格"));
    }
    let bytes = upload.bytes()?;
    let imported = crate::inputs::xlsx::import(&app.engine, &bytes, None)
        .map_err(|e| no(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let name = name.map_or_else(|| format!("{}.yaml", upload.stem()), str::to_string);
    let (hash, ()) = app.folder.save(&name, None, |_| Ok::<_, Refusal>((imported.yaml.clone().into_bytes(), ())))?;
    Ok(json!({"name": name, "hash": hash, "kind": imported.kind, "sheet": imported.sheet,
              "notes": imported.notes, "unplaced": imported.unplaced}))
}

/// Saves a seal picture beside the form (`表单名-印章.png`, numbered if taken)
/// after the checks a form's `seal:` picture gets; returns its file name.
pub fn seal(app: &App, form: &str, upload: &Upload) -> Result<Json, Refusal> {
    app.folder.path(form)?;
    let ext = upload.ext();
    let bytes = upload.bytes()?;
    schema::check_picture(&bytes, &ext)
        .map_err(|e| no(StatusCode::UNPROCESSABLE_ENTITY, format!("印章图片不可用：{e}")))?;
    let stem = form.rsplit_once('.').map_or(form, |(s, _)| s);
    let root = app.folder.root();
    for n in 1..100 {
        let file = if n == 1 { format!("{stem}-印章.{ext}") } else { format!("{stem}-印章-{n}.{ext}") };
        let path = root.join(&file);
        if std::fs::symlink_metadata(&path).is_ok() {
            if std::fs::read(&path).is_ok_and(|b| b == bytes) {
                return Ok(json!({"file": file}));
            }
            continue;
        }
        let out = Outputs::new().claim(&path, Content::Other).map_err(|e| Refusal::Folder(FolderError::Write(e)))?;
        out.write(&bytes).map_err(|e| Refusal::Folder(FolderError::Write(e)))?;
        return Ok(json!({"file": file}));
    }
    Err(no(StatusCode::CONFLICT, "印章图片的文件名都已被占用"))
}

/// A copy of a form for the next year: the year moved on by one, the 填报日期
/// left blank, amounts kept or cleared; comments and layout of the file kept.
pub fn copy(app: &App, from: &str, to: &str, clear_amounts: bool) -> Result<Json, Refusal> {
    let read = app.folder.read(from)?;
    let (source, root) =
        yaml::parse(&read.bytes).map_err(|_| no(StatusCode::UNPROCESSABLE_ENTITY, "原表无法读取，不能复制"))?;
    let mut data = yamledit::typed(&root, &source);
    let kind = data
        .get(schema::FORM_KEY)
        .and_then(Data::as_str)
        .and_then(|k| app.engine.catalog().kind(k))
        .ok_or_else(|| no(StatusCode::UNPROCESSABLE_ENTITY, "原表没有可识别的表单种类，不能复制"))?;
    if let Data::Map(m) = &mut data {
        if let Some(Data::Text(y)) = m.get_mut("year")
            && let Ok(n) = y.trim().parse::<i64>()
        {
            *y = (n + 1).to_string();
        }
        if let Some(Data::Map(sig)) = m.get_mut("signature") {
            sig.shift_remove("date");
        }
        if clear_amounts {
            clear_money(&kind.manifest.fields, &mut data);
        }
    }
    let edited = yamledit::edit(&source, Some(&root), &data);
    let bom = read.bytes.starts_with(b"\xEF\xBB\xBF");
    let mut bytes = if bom { b"\xEF\xBB\xBF".to_vec() } else { vec![] };
    bytes.extend_from_slice(edited.text.as_bytes());
    let (hash, ()) = app.folder.save(to, None, |_| Ok::<_, Refusal>((bytes, ())))?;
    Ok(json!({"name": to, "hash": hash}))
}

/// Removes every amount (`money` field) of the data, in records and lists.
fn clear_money(fields: &indexmap::IndexMap<String, Field>, data: &mut Data) {
    let Data::Map(map) = data else { return };
    for (key, f) in fields {
        let Some(v) = map.get_mut(key) else { continue };
        match f.ty {
            FieldType::Money => {
                map.shift_remove(key);
            }
            FieldType::Record => {
                if let Some(sub) = &f.fields {
                    clear_money(sub, v);
                }
            }
            FieldType::List => {
                if let (Some(item), Data::List(items)) = (f.item.as_deref(), v)
                    && let Some(sub) = &item.fields
                {
                    items.iter_mut().for_each(|it| clear_money(sub, it));
                }
            }
            _ => {}
        }
    }
}
