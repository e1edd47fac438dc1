//! Checks on the content of values: 指标值 parsing, numbering, and the text
//! lints (Latin words, doubled characters, half-width punctuation in Chinese).
//! Form rules in manifests reach these through the `measure` and `seqno`
//! filters.

use serde::Serialize;

/// A parsed 指标值: `≥95%` is `{op: "≥", number: 95, unit: "%"}`, `充分` is `{grade: "充分"}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Measure {
    pub op: Option<String>,
    pub number: Option<f64>,
    pub unit: String,
    pub grade: Option<String>,
}

/// Qualitative grades accepted as 指标值 when a kind does not list its own.
pub const GRADES: &[&str] = &[
    "充分",
    "较充分",
    "合理",
    "较合理",
    "规范",
    "较规范",
    "显著",
    "较显著",
    "明显",
    "有效",
    "较有效",
    "完整",
    "较完整",
    "良好",
    "较好",
    "好",
    "优",
    "优秀",
    "良",
    "中",
    "差",
    "合格",
    "达标",
    "达到",
    "达到预期",
    "达成",
    "达成预期",
    "达成预期指标",
    "部分达成",
    "未达成",
    "协同",
    "高效",
    "持续",
    "持续提升",
    "及时",
    "准确",
    "安全",
    "稳定",
    "提高",
    "提升",
    "改善",
    "逐步提高",
    "逐步改善",
    "按时",
    "按时完成",
    "完成",
    "是",
    "否",
    "有",
    "无",
    "满意",
    "基本满意",
    "长期",
    "健全",
    "完善",
    "到位",
    "公开",
    "透明",
];

const OPS: &[(&str, &str)] = &[
    ("≥", "≥"),
    (">=", "≥"),
    ("≧", "≥"),
    ("＞＝", "≥"),
    ("≤", "≤"),
    ("<=", "≤"),
    ("≦", "≤"),
    ("＜＝", "≤"),
    ("＝", "＝"),
    ("﹦", "＝"),
    ("=", "＝"),
    ("＞", ">"),
    (">", ">"),
    ("＜", "<"),
    ("<", "<"),
];

/// Parses a 指标值; `None` when it is neither a (comparison +) number (+ unit)
/// nor one of `grades`.
pub fn measure(text: &str, grades: &[String]) -> Option<Measure> {
    let s = text.trim();
    let mut rest = s;
    let mut op = None;
    for (spelling, norm) in OPS {
        if let Some(r) = rest.strip_prefix(spelling) {
            op = Some(norm.to_string());
            rest = r.trim_start();
            break;
        }
    }
    let digits: String = rest
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '．' => '.',
            c => c,
        })
        .collect();
    let end = digits.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ',')).unwrap_or(digits.len());
    let number: Option<f64> = digits[..end].replace(',', "").parse().ok();
    if let Some(n) = number {
        let unit = digits[end..].trim().replace('％', "%");
        if unit.chars().any(|c| c.is_ascii_digit()) {
            return None;
        }
        return Some(Measure { op, number: Some(n), unit, grade: None });
    }
    let grade = rest.trim();
    // A kind's `grades:` add to the built-in list.
    let known = GRADES.contains(&grade) || grades.iter().any(|g| g == grade);
    (op.is_none() && known).then(|| Measure { grade: Some(grade.to_string()), ..Measure::default() })
}

/// The number after `prefix` at the start of `text`: `任务3` → 3, `目标二：` → 2.
pub fn seqno(text: &str, prefix: &str) -> Option<i64> {
    let rest = text.trim_start().strip_prefix(prefix)?.trim_start();
    let arabic: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if !arabic.is_empty() {
        return arabic.parse().ok();
    }
    let numeral: String = rest.chars().take_while(|c| "零一二三四五六七八九十".contains(*c)).collect();
    chinese_number(&numeral)
}

fn chinese_number(s: &str) -> Option<i64> {
    let digit = |c: char| "零一二三四五六七八九".chars().position(|d| d == c).map(|d| d as i64);
    let chars: Vec<char> = s.chars().collect();
    match chars.as_slice() {
        [] => None,
        [c] if *c == '十' => Some(10),
        [c] => digit(*c),
        ['十', u] => Some(10 + digit(*u)?),
        [t, '十'] => Some(digit(*t)? * 10),
        [t, '十', u] => Some(digit(*t)? * 10 + digit(*u)?),
        _ => None,
    }
}

fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF)
}

/// Reduplicated words and word pairs that legitimately put a character twice in a row.
const DOUBLES_OK: &[&str] = &[
    "人人", "天天", "年年", "月月", "日日", "常常", "渐渐", "刚刚", "仅仅", "往往", "层层", "步步", "时时", "处处",
    "事事", "个个", "多多", "好好", "慢慢", "明明", "家家", "户户", "样样", "件件", "项项", "条条", "次次", "重重",
    "种种", "点点", "滴滴", "默默", "纷纷", "稍稍", "略略", "偏偏", "恰恰", "统统", "通通", "谢谢", "看看", "想想",
    "试试", "说说", "讲讲", "轻轻", "紧紧", "牢牢", "实实", "扎扎",
];

/// Two-character words that end or begin with the same character, so that
/// `项目目标`, `教职工工资` or `辍学学生` is two words and not a typo.
const WORDS: &str = "项目 目标 目的 资金 金额 部门 门户 人员 员工 工作 作用 用户 管理 理论 经费 费用 财政 政府 \
预算 算法 执行 行政 政策 策划 计划 划分 分析 分类 考核 核算 核定 定额 额度 度量 质量 量化 化解 数量 量表 表格 \
服务 务实 实施 施工 工程 程序 序号 号码 单位 位置 置办 办公 公开 开展 展示 示范 范围 围绕 社会 会议 议事 事业 \
业务 务必 收入 入库 库存 支出 出台 台账 账户 户籍 发展 展开 开发 发放 放心 心理 效益 益处 效率 率先 先进 进度 \
度过 过程 程度 成本 本年 年度 度假 满意 意见 见效 效果 果断 断定 安全 全面 面积 积极 极大 大学 学生 生产 产出 \
出行 行业 业绩 绩效 监督 督查 查处 处理 理事 建设 设施 设备 备案 案件 件数 数据 据此 此外 外出 出资 资产 产业 \
采购 购买 买卖 卖方 方案 案例 例如 合同 同意 意识 识别 别人 人才 才能 能力 力量 量力 力度 制度 度数 数字 字数 \
政务 务工 国库 库房 房屋 信息 公共 共同 同等 等级 级别 标准 准确 确保 保障 障碍 职能 能源 源头 头部 市场 场所 \
所有 有效 效能 能够 够用 结果 果实 实际 专项 省市 市区 区县 县乡 乡镇 镇村 任务 完成 成效 职工 工资 资助 助学 \
学校 校舍 舍弃 辍学 学习 习惯 教学 学年 年级 级数 教师 师生 生均 均衡 衡量 人数 数额 人口 口径 培训 训练 练习 \
农村 村民 民生 生活 活动 动力 力求 医疗 疗效 卫生 生态 态度 环境 境内 内部 部署 署名 文化 化学 体育 育人 人民 \
民政 政治 治理 交通 通行 行为 为民 民营 营业 业务 水利 利用 用地 地方 方面 面向 向上 上级 级次 次数 城市 市民 \
住房 房产 产品 品质 质检 检查 查验 验收 收费 费率 率高 高效 效应 应用 用品 品牌 补助 助力 力争 争取 取得 得分 \
分值 值班 班级 级差 差额 额外 外部 部分 分配 配套 套餐 餐饮 饮水 水平 平台 台阶 阶段 段落 落实 实现 现代 代表 \
表彰 彰显 显著 著名 名称 称号 号召 召开 开放 放大 大会 会计 计算 算账 账目 目录 录用 用工 工人 人事 事项 项数 \
养老 老人 人均 均等 等于 于是 是否 否定 定期 期间 间接 接受 受理 理解 解决 决定 定点 点位 位数 数学 学科 科学 \
学院 院校 校园 园区 区域 域名 名单 单据 据说 说明 明确 确定 定性 性能 能效 效期 期末 末期 期初 初步 步骤 骤然 \
改革 革新 新增 增长 长期 期限 限额 额定 定向 向外 外资 资源 源于 于此 此次 次年 年初 初中 中学 学前 前期 期中 \
就业 业主 主管 管护 护理 理财 财务 务求 求是 是非 非常 常规 规范 范例 例外 外事 事故 故障 障碍 碍事 事务 务农 \
农业 业内 内容 容易 易于 于今 今年 年内 内控 控制 制定 定稿 稿件 件件 健康 康复 复核 核查 查看 看病 病人 人群 \
贫村 村内 村民 在职 职工 乡村 村庄 村级 级次 全村 村集体 行业 业主 市级 县级 区级 省级 乡级 镇级 \
省委 市委 县委 区委 镇委 乡委 村委";

fn is_word(w: &str) -> bool {
    WORDS.split_whitespace().any(|x| x == w)
}

/// Pieces of a blank template's instructions that a filled form should not show.
const GUIDANCE: &[&str] = &[
    "字以内",
    "必填",
    "**",
    "＊＊",
    "××",
    "XX%",
    "xx%",
    "请填写",
    "填写说明",
    "指标1：",
    "指标2：",
    "指标1:",
    "指标2:",
];

/// The template instruction left in `text`, if any: a known phrase, the
/// template's numbering of its example rows (`指标1`, `指标2：`), or a
/// comparison with no number to compare with (`(≥米)`).
pub fn guidance(text: &str) -> Option<&str> {
    if let Some(g) = GUIDANCE.iter().copied().find(|g| text.contains(g)) {
        return Some(g);
    }
    let t = text.trim_start();
    if let Some(rest) = t.strip_prefix("指标") {
        let digits = rest.chars().take_while(|c| c.is_ascii_digit() || ('０'..='９').contains(c)).count();
        let end = "指标".len() + rest.chars().take(digits).map(char::len_utf8).sum::<usize>();
        // `指标1` alone (a placeholder row) or `指标1:` before the text (the template's numbering).
        let after = t[end..].chars().next();
        if digits > 0 && after.is_none_or(|c| matches!(c, ':' | '：' | '、' | '.' | '．')) {
            return Some(&t[..end + after.map_or(0, char::len_utf8)]);
        }
    }
    for (i, c) in text.char_indices() {
        if matches!(c, '≥' | '≤' | '＞' | '＜') && text[..i].ends_with(['(', '（']) {
            let next = text[i + c.len_utf8()..].trim_start().chars().next();
            if next.is_some_and(|n| !n.is_ascii_digit() && !('０'..='９').contains(&n)) {
                let start = i - text[..i].chars().next_back().map_or(0, char::len_utf8);
                let end = text[i..]
                    .char_indices()
                    .find(|(_, c)| matches!(c, ')' | '）'))
                    .map_or(text.len(), |(j, c)| i + j + c.len_utf8());
                return Some(&text[start..end]);
            }
        }
    }
    None
}

/// What a careful reviewer would ask to fix in a 指标值, if anything: ASCII
/// comparison signs, or text that looks like a number but cannot be read.
/// Qualitative values (效果明显, 应保尽保, 按月安排) are fine as they are.
pub fn value_problem(text: &str) -> Option<String> {
    let s = text.trim();
    for (ascii, sign) in [(">=", "≥"), ("<=", "≤"), ("=>", "≥"), ("=<", "≤")] {
        if s.contains(ascii) {
            return Some(format!("「{s}」里的「{ascii}」应写作「{sign}」"));
        }
    }
    if guidance(s).is_some() {
        return None; // lint_text reports it once
    }
    let after_op = OPS.iter().find_map(|(spelling, _)| s.strip_prefix(spelling)).unwrap_or(s).trim_start();
    let numeric_start = after_op.chars().next().is_some_and(|c| c.is_ascii_digit() || ('０'..='９').contains(&c));
    // Dates and periods (2023.07-2024.01, 2022/12) are read as they are.
    let period = s.contains(['-', '—', '~', '～', '/', '至']) || s.matches('.').count() > 1;
    if numeric_start && !period && measure(s, &[]).is_none() && !after_op.chars().any(is_han) {
        return Some(format!("「{s}」像是数值，但读不出数字和单位，请核对"));
    }
    None
}

/// Warnings about Chinese running text: `(column, message)`, column in characters.
pub fn lint_text(text: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = vec![];
    let han_near = |i: usize, step: isize| {
        let mut j = i as isize + step;
        while j >= 0 && (j as usize) < chars.len() && chars[j as usize] == ' ' {
            j += step;
        }
        j >= 0 && (j as usize) < chars.len() && is_han(chars[j as usize])
    };
    // Latin words between Chinese characters: `社会组织 and 行业协会`.
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_lowercase() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_alphabetic() {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if word.len() >= 2 && start > 0 && han_near(start, -1) && han_near(i - 1, 1) {
                out.push((start, format!("中文里夹有英文单词「{word}」")));
            }
        }
        i += 1;
    }
    // A character doubled, as at a line wrap: `专项资金金`.
    for i in 1..chars.len() {
        let c = chars[i];
        if c != chars[i - 1] || !is_han(c) || (i >= 2 && chars[i - 2] == c) {
            continue;
        }
        let pair: String = [c, c].iter().collect();
        let before: String = chars[i.saturating_sub(2)..i].iter().collect();
        let after: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        // A place name ends in its unit (阳泉市, 岳阳县, 脱贫村) and may be followed by a
        // word that starts with it (市级, 县委, 村内): the name itself is in no word list.
        let place_end = "省市县区乡镇村".contains(c);
        let two_words = i >= 2 && i + 1 < chars.len() && (is_word(&before) || place_end) && is_word(&after);
        if !DOUBLES_OK.contains(&pair.as_str()) && !two_words {
            out.push((i, format!("重复的字「{pair}」")));
        }
    }
    // A word doubled, as at a copy and paste: `周期周期`, `854万854万`.
    let mut i = 0;
    while i < chars.len() {
        let max = (chars.len() - i) / 2;
        let doubled = (2..=max.min(8)).find(|&n| {
            chars[i..i + n] == chars[i + n..i + 2 * n]
                && chars[i..i + n].iter().any(|c| is_han(*c))
                && chars[i..i + n].iter().any(|c| *c != chars[i])
        });
        match doubled {
            Some(n) => {
                let word: String = chars[i..i + n].iter().collect();
                out.push((i + n, format!("重复的词「{word}{word}」")));
                i += 2 * n;
            }
            None => i += 1,
        }
    }
    // A placeholder row of the blank template: `……`, `指标2：`.
    if !text.trim().is_empty() && text.trim().chars().all(|c| matches!(c, '…' | '.' | '。' | '·')) {
        out.push((0, format!("格中留有模板的占位符「{}」，应填实际内容或删去这一行", text.trim())));
        return out;
    }
    // Instructions from the blank template left in a cell: `(100字以内)`, `(≥**%)`.
    if let Some(hint) = guidance(text) {
        out.push((
            text[..text.find(hint).unwrap_or(0)].chars().count(),
            format!("格中留有模板的填写说明「{hint}」，应换成实际内容或删去"),
        ));
    }
    out.sort_by_key(|(i, _)| *i);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures() {
        let m = measure("≥95%", &[]).unwrap();
        assert_eq!((m.op.as_deref(), m.number, m.unit.as_str()), (Some("≥"), Some(95.0), "%"));
        assert_eq!(measure("＞＝ 90 ％", &[]).unwrap().op.as_deref(), Some("≥"));
        assert_eq!(measure("57", &[]).unwrap().unit, "");
        assert_eq!(measure("5400本", &[]).unwrap().unit, "本");
        assert_eq!(measure("充分", &[]).unwrap().grade.as_deref(), Some("充分"));
        assert!(measure("很多很多", &[]).is_none());
        assert!(measure("≥充分", &[]).is_none());
        assert!(measure("12a34", &[]).is_none());
    }

    #[test]
    fn sequence_numbers() {
        assert_eq!(seqno("任务3", "任务"), Some(3));
        assert_eq!(seqno("目标二十一：", "目标"), Some(21));
        assert_eq!(seqno("人员经费", "任务"), None);
    }

    #[test]
    fn lints() {
        let found = |t: &str| lint_text(t).into_iter().map(|(_, m)| m).collect::<Vec<_>>();
        assert_eq!(found("社会组织 and 行业协会"), vec!["中文里夹有英文单词「and」"]);
        assert_eq!(found("专项资金金做到专项专用"), vec!["重复的字「金金」"]);
        assert!(found("项目目标完成实现率；人人有责；PDF文件；12345平台").is_empty());
        assert!(found("山西省阳泉市市级预算部门；岳阳县县级；脱贫村村内").is_empty(), "a place name and the next word");
        assert_eq!(found("市市级"), vec!["重复的字「市市」"], "no place name before it");
        assert_eq!(found("项目周期周期为一年"), vec!["重复的词「周期周期」"]);
        assert_eq!(found("854万854万"), vec!["重复的词「854万854万」"]);
        assert!(found("是否充分; 内容（1）").is_empty(), "half-width punctuation is not a finding");
        assert_eq!(found("说明(100字以内)"), vec!["格中留有模板的填写说明「字以内」，应换成实际内容或删去"]);
        assert_eq!(found("指标1:完成改造项目数量"), vec!["格中留有模板的填写说明「指标1:」，应换成实际内容或删去"]);
        assert_eq!(found("公猪舍(≥平方米)"), vec!["格中留有模板的填写说明「(≥平方米)」，应换成实际内容或删去"]);
        assert!(
            found("指标体系完善").is_empty() && found("面积(≥ 50平方米)").is_empty() && found("指标0-0-1").is_empty()
        );
        assert_eq!(found("指标2"), vec!["格中留有模板的填写说明「指标2」，应换成实际内容或删去"]);
    }

    #[test]
    fn values() {
        assert_eq!(value_problem(">=95%").unwrap(), "「>=95%」里的「>=」应写作「≥」");
        assert!(value_problem("≥9%0").unwrap().contains("读不出"));
        for ok in [
            "≥95%",
            "效果明显",
            "应保尽保",
            "按月安排",
            "高",
            "参照政府采购成本控制",
            "2022年12月底前",
            "1000万元以内",
            "2023.07-2024.01",
        ] {
            assert!(value_problem(ok).is_none(), "{ok}");
        }
    }
}
