//! MS03-026 patch verdicts on fixture volumes: real hives (libhivex) with and without update
//! markers, and an rpcrt4.dll stand-in whose version resource pelite reads.
mod common;

use common::{Image, RegValue, base_software, base_system, hivex_ready};
use kansoku_check::ioc::IocDb;
use kansoku_check::patch::Verdict;
use kansoku_check::scan::scan;
use kansoku_check::volume::Volume;

fn verdict(img: &Image) -> kansoku_check::patch::PatchState {
    scan(
        &Volume::open(img.root()).unwrap(),
        &IocDb::builtin().unwrap(),
    )
    .patch
    .unwrap()
}

fn with_rpcrt4(img: &Image, v: [u16; 4]) {
    std::fs::write(
        img.windows.join("System32/RPCRT4.DLL"),
        common::pe::dll_with_version(v),
    )
    .unwrap();
}

#[test]
fn xp_sp1_marker_and_fixed_file_is_patched() {
    if !hivex_ready("xp_sp1_marker_and_fixed_file_is_patched") {
        return;
    }
    let sw = base_software().key(
        "Microsoft\\Updates\\Windows XP\\SP2\\KB823980",
        &[(
            "Description",
            RegValue::Sz("Windows XP Hotfix - KB823980".into()),
        )],
    );
    let img = Image::standard("WINDOWS", sw, base_system());
    with_rpcrt4(&img, [5, 1, 2600, 1230]);
    let p = verdict(&img);
    assert_eq!(p.verdict, Verdict::Patched, "{:?}", p.evidence);
    assert_eq!(p.markers, ["Microsoft\\Updates\\Windows XP\\SP2\\KB823980"]);
    assert_eq!(p.rpcrt4_version.as_deref(), Some("5.1.2600.1230"));
    assert_eq!(p.os.service_pack.as_deref(), Some("Service Pack 1"));
}

#[test]
fn xp_sp1_without_marker_and_old_file_is_not_patched() {
    if !hivex_ready("xp_sp1_without_marker_and_old_file_is_not_patched") {
        return;
    }
    let img = Image::standard("WINDOWS", base_software(), base_system());
    with_rpcrt4(&img, [5, 1, 2600, 1106]);
    let p = verdict(&img);
    assert_eq!(p.verdict, Verdict::NotPatched, "{:?}", p.evidence);
    assert!(p.markers.is_empty());
}

#[test]
fn windows_2000_superseding_marker_without_file_is_likely_patched() {
    if !hivex_ready("windows_2000_superseding_marker_without_file_is_likely_patched") {
        return;
    }
    let sw = base_software()
        .key(
            "Microsoft\\Windows NT\\CurrentVersion",
            &[
                ("ProductName", RegValue::Sz("Microsoft Windows 2000".into())),
                ("CurrentVersion", RegValue::Sz("5.0".into())),
                ("CurrentBuildNumber", RegValue::Sz("2195".into())),
                ("CSDVersion", RegValue::Sz("Service Pack 4".into())),
            ],
        )
        .key(
            "Microsoft\\Windows NT\\CurrentVersion\\HotFix\\KB824146",
            &[("Installed", RegValue::Dword(1))],
        );
    let img = Image::standard("WINNT", sw, base_system());
    let p = verdict(&img);
    assert_eq!(p.verdict, Verdict::LikelyPatched, "{:?}", p.evidence);
    assert_eq!(
        p.markers,
        ["Microsoft\\Windows NT\\CurrentVersion\\HotFix\\KB824146"]
    );
    assert!(
        p.evidence.iter().any(|e| e.contains("missing")),
        "{:?}",
        p.evidence
    );
}

#[test]
fn a_patch_marker_never_implies_clean() {
    if !hivex_ready("a_patch_marker_never_implies_clean") {
        return;
    }
    // Welchia installs the patch itself: patched and infected at once.
    let sw = base_software().key("Microsoft\\Updates\\Windows XP\\SP2\\KB823980", &[]);
    let system = common::welchia_services(base_system(), "ControlSet001");
    let img = Image::standard("WINDOWS", sw, system);
    with_rpcrt4(&img, [5, 1, 2600, 1230]);
    img.dummy("system32\\wins\\dllhost.exe", 10240);
    let r = scan(
        &Volume::open(img.root()).unwrap(),
        &IocDb::builtin().unwrap(),
    );
    assert_eq!(r.patch.as_ref().unwrap().verdict, Verdict::Patched);
    assert!(r.infected());
}
