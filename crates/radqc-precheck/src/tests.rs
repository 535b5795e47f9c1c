//! The issue's examples, hits and hard negatives, one by one. The labelled corpus and its
//! precision and recall are in `tests/precheck` (the `precheck_corpus` test and bench).

use super::*;

fn report(exam_item: &str, sex: Option<Sex>, history: &str, findings: &str, impression: &str) -> Report {
    Report {
        modality: "CT".into(),
        exam_item: exam_item.into(),
        patient_sex: sex,
        patient_age: Some(50),
        history: history.into(),
        findings: findings.into(),
        impression: impression.into(),
        ..Report::default()
    }
}

fn checks(r: &Report) -> Vec<Check> {
    let found = Prechecker::bundled().check(r);
    for p in &found {
        for e in &p.evidence {
            assert!(
                r.history.contains(e.as_str()) || r.findings.contains(e.as_str()) || r.impression.contains(e.as_str()),
                "evidence {e:?} is not verbatim in the report"
            );
        }
    }
    found.iter().map(|p| p.check).collect()
}

#[test]
fn the_bundled_lexicon_is_valid_and_names_every_check() {
    let p = Prechecker::bundled();
    for check in Check::ALL {
        assert!(p.criterion(check).to_string().starts_with("RQ-S"), "{check}");
        assert!(p.twin(check).to_string().starts_with("AR-S"), "{check}");
    }
    assert_eq!(p.default_mode(Check::Laterality), Mode::Warn);
    assert_eq!(p.default_mode(Check::NoComparison), Mode::Panel);
}

#[test]
fn a_wrong_lexicon_is_refused_with_each_problem_named() {
    let text =
        BUNDLED_TEXT.replace("criterion = \"RQ-S2\"", "criterion = \"left\"").replace("schema = 1", "schema = 9");
    let err = Prechecker::parse("x.toml", &text).err().expect("refused").to_string();
    assert!(err.contains("checks.laterality.criterion"), "{err}");
    assert!(err.contains("schema 9"), "{err}");
}

#[test]
fn laterality_finds_the_other_knee_and_a_swapped_impression() {
    let r = report(
        "左膝关节MR平扫",
        None,
        "",
        "右膝关节内侧半月板后角见线样高信号，达关节面。",
        "右膝关节内侧半月板后角撕裂。",
    );
    assert_eq!(checks(&r), [Check::Laterality]);
    let p = &Prechecker::bundled().check(&r)[0];
    assert!(p.message_zh.contains("检查项目为左膝"), "{}", p.message_zh);
    assert_eq!(p.criterion.to_string(), "RQ-S2");

    let r = report("腹部CT平扫", None, "", "右肾盂内见结节状高密度影，大小约0.6cm。", "左肾结石。");
    assert_eq!(checks(&r), [Check::Laterality]);
}

#[test]
fn laterality_hard_negatives() {
    for r in [
        report(
            "腹部CT平扫",
            Some(Sex::Male),
            "左肾癌根治术后",
            "左肾切除术后，右肾代偿性增大，形态正常。",
            "左肾切除术后改变，右肾代偿性增大。",
        ),
        report(
            "左肘关节正侧位",
            None,
            "",
            "左肘关节骨质未见异常。加照右肘关节对照，双侧对称。",
            "左肘关节未见明显异常。",
        ),
        report(
            "头颅CT平扫",
            None,
            "外伤",
            "左侧额颞部颅板下见新月形高密度影，中线结构右移。",
            "左侧额颞部硬膜下血肿，中线移位。",
        ),
        report("双膝关节正侧位", None, "", "右膝关节间隙变窄，左膝关节骨质增生。", "双膝关节退行性变。"),
    ] {
        assert_eq!(checks(&r), [], "{r:?}");
    }
}

#[test]
fn sex_organ_and_its_hard_negatives() {
    let male = Some(Sex::Male);
    assert_eq!(
        checks(&report("盆腔CT", male, "", "膀胱充盈可，子宫及双附件区未见异常。", "盆腔未见异常。")),
        [Check::SexOrgan]
    );
    assert_eq!(
        checks(&report("盆腔CT", Some(Sex::Female), "", "前列腺大小正常。", "盆腔未见异常。")),
        [Check::SexOrgan]
    );
    assert_eq!(checks(&report("盆腔MR", male, "", "前列腺体积增大，信号均匀。", "前列腺增生。")), []);
    assert_eq!(checks(&report("腰椎CT", male, "", "腰椎椎体及附件未见骨质破坏。", "腰椎未见异常。")), []);
}

#[test]
fn resected_organ_and_its_hard_negatives() {
    let f = Some(Sex::Female);
    assert_eq!(
        checks(&report(
            "上腹部CT",
            f,
            "胆囊切除术后3年",
            "肝脏形态正常。胆囊大小形态正常，壁不厚。",
            "上腹部未见异常。"
        )),
        [Check::ResectedOrgan]
    );
    assert_eq!(
        checks(&report("腹部CT", f, "左肾切除术后", "双肾大小形态正常。", "腹部未见异常。")),
        [Check::ResectedOrgan]
    );
    assert_eq!(checks(&report("上腹部CT", f, "胆囊切除术后", "胆囊未见显示，符合术后改变。", "胆囊切除术后。")), []);
    assert_eq!(
        checks(&report(
            "腹部CT",
            f,
            "左肾切除术后",
            "左肾缺如，右肾代偿性增大。左肾上腺未见异常。",
            "左肾切除术后改变。"
        )),
        []
    );
    assert_eq!(checks(&report("上腹部CT", f, "胃大部切除术后", "残胃吻合口未见异常。", "胃大部切除术后改变。")), []);
}

#[test]
fn no_comparison_counts_comparisons_in_other_words() {
    let mut r = report("胸部CT平扫", None, "肺炎复查", "右肺下叶见斑片状实变影。", "右肺下叶炎症。");
    r.is_followup = true;
    r.prior_available = true;
    assert_eq!(checks(&r), [Check::NoComparison]);
    for words in ["与上次检查相仿", "同2025-05-20片", "较前部分吸收", "左肺新发结节"] {
        r.impression = format!("右肺下叶炎症，{words}。");
        assert_eq!(checks(&r), [], "{words}");
    }
    r.impression = "右肺下叶炎症。".into();
    r.prior_available = false;
    assert_eq!(checks(&r), [], "no prior: nothing to compare with");
}

#[test]
fn empty_impression_and_placeholders() {
    for impression in ["", "  ", "见上", "1. 同上。", "XXX", "***", "诊断意见：", "……"] {
        let r = report("胸部正位", None, "", "心肺膈未见异常。", impression);
        assert_eq!(checks(&r), [Check::EmptyImpression], "{impression:?}");
    }
    assert_eq!(checks(&report("胸部正位", None, "", "心肺膈未见异常。", "心肺膈未见异常。")), []);
}

#[test]
fn finding_not_in_impression_reads_negations_and_paraphrases() {
    let r = report("右腕关节正侧位", None, "", "右桡骨远端骨质不连续，断端轻度移位。", "右腕关节软组织肿胀。");
    assert_eq!(checks(&r), [Check::FindingNotInImpression]);
    for (findings, impression) in [
        ("骨质连续，未见骨折线。", "右腕关节未见明显异常。"),
        ("右肺上叶见钙化结节，直径约3mm。", "右肺上叶钙化灶。"),
        ("左侧胸腔少量积液。", "左侧胸水。"),
        ("右桡骨远端骨折，未见明显移位。", "右桡骨远端骨折。"),
    ] {
        assert_eq!(checks(&report("胸部CT", None, "", findings, impression)), [], "{findings}");
    }
}

#[test]
fn a_report_line_reads_with_nulls_and_extra_fields_and_names_a_wrong_one() {
    let r: Report = serde_json::from_str(
        r#"{"modality":"DR","exam_item":"胸部正位","patient_sex":"M","patient_age":null,"history":null,
            "is_followup":false,"prior_available":null,"findings":"心肺未见异常","impression":"未见异常","labels":[]}"#,
    )
    .unwrap();
    assert_eq!(r.patient_sex, Some(Sex::Male));
    let err = serde_json::from_str::<Report>(r#"{"patient_sex":"男","findings":"","impression":""}"#).unwrap_err();
    assert!(err.to_string().contains("sex"), "{err}");
    let err = serde_json::from_str::<Report>(r#"{"findings":""}"#).unwrap_err();
    assert!(err.to_string().contains("impression"), "{err}");
}

mod fuzz {
    use proptest::prelude::*;

    use super::*;

    /// Report text from the lexicons' own characters, punctuation and digits, so that terms,
    /// sides, negations and breaks meet in every order.
    fn text() -> impl Strategy<Value = String> {
        let atoms = prop::sample::select(vec![
            "左",
            "右",
            "双",
            "两",
            "侧",
            "膝",
            "肾",
            "肾上腺",
            "胆囊",
            "子宫",
            "前列腺",
            "附件",
            "椎",
            "切除",
            "术后",
            "未见",
            "无",
            "不除外",
            "骨折",
            "结节",
            "钙化灶",
            "积液",
            "显示",
            "缺如",
            "较前",
            "对照",
            "，",
            "。",
            "；",
            "\n",
            "1.",
            "L4/5",
            "2025-05-20",
            "X",
            "…",
            "见",
            "异常",
            "低密度灶",
            "肝",
            "肺上叶",
            " ",
            "é",
            "😀",
        ]);
        prop::collection::vec(atoms, 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn no_report_panics_and_every_evidence_is_verbatim(
            exam_item in text(), history in text(), findings in text(), impression in text(),
            female in any::<bool>(), followup in any::<bool>(), prior in any::<bool>(),
        ) {
            let r = Report {
                modality: "CT".into(),
                exam_item,
                patient_sex: Some(if female { Sex::Female } else { Sex::Male }),
                patient_age: None,
                history,
                is_followup: followup,
                prior_available: prior,
                findings,
                impression,
            };
            for p in Prechecker::bundled().check(&r) {
                for e in &p.evidence {
                    prop_assert!(!e.is_empty());
                    prop_assert!(r.history.contains(e.as_str()) || r.findings.contains(e.as_str()) || r.impression.contains(e.as_str()));
                }
            }
        }
    }
}

#[test]
fn more_hard_negatives_of_removals() {
    let m = Some(Sex::Male);
    for (history, findings, impression) in [
        ("胃癌根治术后", "残胃壁未见增厚，吻合口通畅。", "胃癌术后改变。"),
        ("前列腺癌根治术后", "前列腺窝未见异常信号，膀胱尿道吻合口通畅。", "前列腺癌术后改变。"),
        ("右肾移植术后", "移植肾位于右髂窝，形态正常。", "移植肾未见异常。"),
        ("甲状腺左叶切除术后", "甲状腺右叶大小正常，密度均匀。", "甲状腺左叶切除术后改变。"),
        ("LC术后", "胆囊窝区见金属夹影，胆总管不宽。", "胆囊切除术后。"),
        ("右肺上叶切除术后", "右肺上叶支气管残端未见异常，右肺中下叶未见结节。", "右肺上叶切除术后改变。"),
    ] {
        assert_eq!(checks(&report("CT", m, history, findings, impression)), [], "{history}: {findings}");
    }
}
