//! The fixed phrases of the text and Markdown reports in English and Japanese. Data in the
//! report (paths, value names, versions, rule ids) is never translated.
use crate::cli::Lang;

/// A phrase of the readable reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Msg {
    Title,
    Volume,
    WindowsDir,
    Status,
    Clean,
    Infected,
    Incomplete,
    PartlyRemediated,
    Remediated,
    Findings,
    NoFindings,
    File,
    RunValue,
    Service,
    Process,
    Listening,
    Mutex,
    MatchedByFile,
    MatchedByName,
    Backdoor,
    Patch,
    Patched,
    LikelyPatched,
    NotPatched,
    Unknown,
    NotChecked,
    NotCheckedWhy,
    Errors,
    Actions,
    Advice,
    AdvicePatchFirst,
    AdviceClean,
    AdviceSystemRestore,
    AdviceRebuild,
    AdviceFirewall,
    AdviceIncomplete,
    AdviceCleanPatch,
    Database,
    Sources,
    PlanWritten,
    NothingChanged,
    SessionWritten,
    UndoWith,
}

/// The phrase `m` in `lang`.
pub fn t(lang: Lang, m: Msg) -> &'static str {
    use Msg::*;
    match lang {
        Lang::En => match m {
            Title => "kansoku-check report",
            Volume => "Volume",
            WindowsDir => "Windows directory",
            Status => "Result",
            Clean => "CLEAN: no indicator of Blaster or Welchia was found",
            Infected => "INFECTED: indicators of Blaster or Welchia were found",
            Incomplete => "INCOMPLETE: the scan could not read everything it needs; no conclusion",
            PartlyRemediated => "PARTLY REMEDIATED: some actions failed or indicators remain",
            Remediated => "REMEDIATED: every planned action succeeded",
            Findings => "Findings",
            NoFindings => "none",
            File => "file",
            RunValue => "Run value",
            Service => "service",
            Process => "process",
            Listening => "listening on",
            Mutex => "mutex",
            MatchedByFile => "its data names a worm file",
            MatchedByName => "matched by its name only",
            Backdoor => "BACKDOOR VARIANT",
            Patch => "MS03-026 patch state",
            Patched => "patched",
            LikelyPatched => "likely patched",
            NotPatched => "NOT patched",
            Unknown => "unknown",
            NotChecked => "Not checked offline",
            NotCheckedWhy => "mutexes exist only while the worm runs; check them with a live scan",
            Errors => "Problems",
            Actions => "Actions",
            Advice => {
                "What to do (following the 2003 advisories: CERT CA-2003-20, Microsoft MS03-026)"
            }
            AdvicePatchFirst => {
                "Patch first: install MS03-026 (or its replacements MS03-039 / MS04-012, or a service pack that includes them) before the machine goes back on a network, or it will be reinfected within minutes."
            }
            AdviceClean => {
                "Then clean: `kansoku-check plan` lists the files to quarantine and the registry entries to remove; review it and run `kansoku-check apply --plan FILE` on the offline volume."
            }
            AdviceSystemRestore => {
                "On Windows XP/Me, turn System Restore off before cleaning (its restore points keep copies of the worm) and back on afterwards."
            }
            AdviceRebuild => {
                "A backdoor variant was found: the machine may have been controlled remotely. Do not trust it after cleaning: save the data, reinstall Windows from trusted media, patch, and change the passwords used on it."
            }
            AdviceFirewall => {
                "Block TCP 135, 139, 445 and 4444 and UDP 69 at the perimeter, and turn on the Internet Connection Firewall on XP."
            }
            AdviceIncomplete => {
                "Fix the problems listed above (for example replay a dirty hive's logs) and scan again before drawing any conclusion."
            }
            AdviceCleanPatch => {
                "No indicator was found. Make sure the MS03-026 fix is installed before the machine goes back on a network."
            }
            Database => "Indicator database",
            Sources => "Sources",
            PlanWritten => "Plan written to",
            NothingChanged => "actions; nothing on the volume has changed yet",
            SessionWritten => "Quarantine session",
            UndoWith => "undo one action with",
        },
        Lang::Ja => match m {
            Title => "kansoku-check 検査報告",
            Volume => "ボリューム",
            WindowsDir => "Windows ディレクトリ",
            Status => "結果",
            Clean => "感染なし: Blaster・Welchia の痕跡は見つかりませんでした",
            Infected => "感染: Blaster または Welchia の痕跡が見つかりました",
            Incomplete => "検査未完了: 必要な情報をすべて読めなかったため、判定できません",
            PartlyRemediated => "一部駆除: 失敗した処置があるか、痕跡が残っています",
            Remediated => "駆除完了: 計画したすべての処置が成功しました",
            Findings => "検出された痕跡",
            NoFindings => "なし",
            File => "ファイル",
            RunValue => "Run 値",
            Service => "サービス",
            Process => "プロセス",
            Listening => "待ち受けポート",
            Mutex => "ミューテックス",
            MatchedByFile => "データがワームのファイル名を含む",
            MatchedByName => "値の名前のみで一致",
            Backdoor => "バックドア型の亜種",
            Patch => "MS03-026 の修正プログラム適用状況",
            Patched => "適用済み",
            LikelyPatched => "適用済みの可能性が高い",
            NotPatched => "未適用",
            Unknown => "不明",
            NotChecked => "オフラインでは未検査",
            NotCheckedWhy => {
                "ミューテックスはワームの実行中にしか存在しません。ライブ検査で確認してください"
            }
            Errors => "問題",
            Actions => "処置",
            Advice => "対処方法 (2003 年の勧告 CERT CA-2003-20・Microsoft MS03-026 に基づく)",
            AdvicePatchFirst => {
                "まず修正プログラムを適用してください: ネットワークに戻す前に MS03-026 (またはそれを置き換える MS03-039 / MS04-012、それらを含むサービスパック) をインストールしないと、数分で再感染します。"
            }
            AdviceClean => {
                "次に駆除します: `kansoku-check plan` が隔離するファイルと削除するレジストリ項目を一覧にします。内容を確認し、オフラインのボリュームに対して `kansoku-check apply --plan FILE` を実行してください。"
            }
            AdviceSystemRestore => {
                "Windows XP/Me では、駆除の前にシステムの復元を無効にし (復元ポイントにワームの複製が残るため)、駆除後に有効に戻してください。"
            }
            AdviceRebuild => {
                "バックドア型の亜種が見つかりました。遠隔操作されていた可能性があります。駆除後も信頼せず、データを退避して信頼できる媒体から Windows を再インストールし、修正プログラムを適用し、この PC で使ったパスワードを変更してください。"
            }
            AdviceFirewall => {
                "境界で TCP 135・139・445・4444 と UDP 69 を遮断し、XP ではインターネット接続ファイアウォールを有効にしてください。"
            }
            AdviceIncomplete => {
                "上記の問題を解消してから (例: ダーティなハイブのログを適用する) 再検査し、それまでは判定しないでください。"
            }
            AdviceCleanPatch => {
                "痕跡は見つかりませんでした。ネットワークに戻す前に MS03-026 の修正プログラムが適用されていることを確認してください。"
            }
            Database => "痕跡データベース",
            Sources => "出典",
            PlanWritten => "計画の書き出し先",
            NothingChanged => "件の処置。ボリュームはまだ何も変更されていません",
            SessionWritten => "隔離セッション",
            UndoWith => "個々の処置を元に戻すには",
        },
    }
}
