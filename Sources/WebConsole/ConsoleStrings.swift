import ServiceDesk

/// The console's words in each language it speaks; one table, so that a label is never missing in one of them.
enum ConsoleText: String, CaseIterable {
    case signInTitle, email, password, signIn, signOut, badLogin, tooManyAttempts, queue, search, key, summary, status
    case reporter, assignee, updated, empty, filterOpen, filterSupport, filterCustomer, filterMine, filterUnassigned
    case replyToCustomer, internalNote, send, quoted, attachments, update, unassigned, settings, language, automatic
    case save, setPassword, newPassword, repeatPassword, passwordsDiffer, passwordTooShort, linkExpired, thread
    case noProjects, internalLabel, statusSupport, statusCustomer, statusResolved
    case admin, adminOnly, channels, processingLog, customers, requestTypes, relay, address, project, protocolLabel
    case state, detail, lastCheck, processedToday, lastError, retryAt, test, verify, noChannels, testTitle
    case verifyTitle, running, runLost, runAgain, channel, all, outcome, sender, since, until, filter, time, request
    case attempts, retry, release, noLog, newer, older, signup, restrictedHelp, name, noCustomers, addCustomer
    case lists, listsHelp, list, pattern, remove, noRules, add, fields, emailLabel, emailOk, noRequestTypes
    case fieldsHelp, addRequestType, host, from, username, sendTest, relayUnset, lastDelivery, failures, serverSaid
    case diagnosis, fix, outbox, pending, due, failedLabel, testReport, advice, subject

    /// The text in `locale`.
    func text(_ locale: ConsoleLocale) -> String {
        switch locale {
        case .en: english
        case .ja: japanese
        }
    }

    private var english: String {
        switch self {
        case .signInTitle: "Sign in to postdesk"
        case .email: "Email"
        case .password: "Password"
        case .signIn: "Sign in"
        case .signOut: "Sign out"
        case .badLogin: "The email or password is wrong."
        case .tooManyAttempts: "Too many failed sign-ins. Try again in 15 minutes."
        case .queue: "Queue"
        case .search: "Search"
        case .key: "Key"
        case .summary: "Summary"
        case .status: "Status"
        case .reporter: "Reporter"
        case .assignee: "Assignee"
        case .updated: "Updated"
        case .empty: "No requests here."
        case .filterOpen: "Open"
        case .filterSupport: "Waiting for support"
        case .filterCustomer: "Waiting for customer"
        case .filterMine: "Mine"
        case .filterUnassigned: "Unassigned"
        case .replyToCustomer: "Reply to customer"
        case .internalNote: "Internal note"
        case .send: "Send"
        case .quoted: "Quoted text"
        case .attachments: "Attachments"
        case .update: "Update"
        case .unassigned: "Unassigned"
        case .settings: "Settings"
        case .language: "Language"
        case .automatic: "As the browser asks"
        case .save: "Save"
        case .setPassword: "Set your password"
        case .newPassword: "New password (at least 10 characters)"
        case .repeatPassword: "Repeat it"
        case .passwordsDiffer: "The two passwords differ."
        case .passwordTooShort: "The password needs at least 10 characters."
        case .linkExpired: "This link has expired or was used already. Ask an admin for a new one."
        case .thread: "Conversation"
        case .noProjects: "There are no projects yet."
        case .internalLabel: "internal"
        case .statusSupport: "Waiting for support"
        case .statusCustomer: "Waiting for customer"
        case .statusResolved: "Resolved"
        case .admin: "Admin"
        case .adminOnly: "This page is for admins only."
        case .channels: "Channels"
        case .processingLog: "Processing log"
        case .customers: "Customers"
        case .requestTypes: "Request types"
        case .relay: "SMTP relay"
        case .address: "Address"
        case .project: "Project"
        case .protocolLabel: "Protocol"
        case .state: "State"
        case .detail: "Detail"
        case .lastCheck: "Last success"
        case .processedToday: "Today"
        case .lastError: "Last error"
        case .retryAt: "Next try"
        case .test: "Test"
        case .verify: "Verify"
        case .noChannels: "No channels are linked yet."
        case .testTitle: "Connection test"
        case .verifyTitle: "Verification"
        case .running: "Running…"
        case .runLost: "This run is over or no longer available; start it again."
        case .runAgain: "Run again"
        case .channel: "Channel"
        case .all: "All"
        case .outcome: "Outcome"
        case .sender: "Sender"
        case .since: "From"
        case .until: "Until"
        case .filter: "Filter"
        case .time: "Time"
        case .request: "Request"
        case .attempts: "Attempts"
        case .retry: "Retry"
        case .release: "Release"
        case .noLog: "Nothing in the log for this filter."
        case .newer: "Newer"
        case .older: "Older"
        case .signup: "Signup"
        case .restrictedHelp: "only customers of the project and the allow list raise requests"
        case .name: "Name"
        case .noCustomers: "No customers yet."
        case .addCustomer: "Add customer"
        case .lists: "Allow and block lists"
        case .listsHelp: "An entry is an address (a@b.test) or a whole domain (b.test)."
        case .list: "List"
        case .pattern: "Address or domain"
        case .remove: "Remove"
        case .noRules: "No allow or block entries."
        case .add: "Add"
        case .fields: "Fields"
        case .emailLabel: "Email"
        case .emailOk: "can receive email"
        case .noRequestTypes: "No request types yet."
        case .fieldsHelp: "Fields, one per line: NAME:visible|hidden:required|optional"
        case .addRequestType: "Add request type"
        case .host: "Server"
        case .from: "Sender address"
        case .username: "User"
        case .sendTest: "Send test"
        case .relayUnset: "No SMTP relay is set: postdesk smtp set configures it."
        case .lastDelivery: "Last delivery"
        case .failures: "Failures in a row"
        case .serverSaid: "Server said"
        case .diagnosis: "Diagnosis"
        case .fix: "Fix"
        case .outbox: "Outbox"
        case .pending: "pending"
        case .due: "due"
        case .failedLabel: "failed"
        case .testReport: "Test report"
        case .advice: "Advice"
        case .subject: "Subject"
        }
    }

    private var japanese: String {
        switch self {
        case .signInTitle: "postdesk にサインイン"
        case .email: "メールアドレス"
        case .password: "パスワード"
        case .signIn: "サインイン"
        case .signOut: "サインアウト"
        case .badLogin: "メールアドレスまたはパスワードが違います。"
        case .tooManyAttempts: "サインインの失敗が多すぎます。15 分後にもう一度お試しください。"
        case .queue: "キュー"
        case .search: "検索"
        case .key: "キー"
        case .summary: "要約"
        case .status: "ステータス"
        case .reporter: "報告者"
        case .assignee: "担当者"
        case .updated: "更新"
        case .empty: "リクエストはありません。"
        case .filterOpen: "未解決"
        case .filterSupport: "サポート待ち"
        case .filterCustomer: "顧客待ち"
        case .filterMine: "自分の担当"
        case .filterUnassigned: "未割り当て"
        case .replyToCustomer: "顧客に返信"
        case .internalNote: "内部メモ"
        case .send: "送信"
        case .quoted: "引用部分"
        case .attachments: "添付ファイル"
        case .update: "更新"
        case .unassigned: "未割り当て"
        case .settings: "設定"
        case .language: "言語"
        case .automatic: "ブラウザーの設定に従う"
        case .save: "保存"
        case .setPassword: "パスワードの設定"
        case .newPassword: "新しいパスワード（10 文字以上）"
        case .repeatPassword: "もう一度入力"
        case .passwordsDiffer: "2 つのパスワードが一致しません。"
        case .passwordTooShort: "パスワードは 10 文字以上にしてください。"
        case .linkExpired: "このリンクは期限切れか、使用済みです。管理者に新しいリンクを依頼してください。"
        case .thread: "やり取り"
        case .noProjects: "プロジェクトはまだありません。"
        case .internalLabel: "内部"
        case .statusSupport: "サポート待ち"
        case .statusCustomer: "顧客待ち"
        case .statusResolved: "解決済み"
        case .admin: "管理"
        case .adminOnly: "このページは管理者専用です。"
        case .channels: "チャネル"
        case .processingLog: "処理ログ"
        case .customers: "顧客"
        case .requestTypes: "リクエストタイプ"
        case .relay: "SMTP リレー"
        case .address: "アドレス"
        case .project: "プロジェクト"
        case .protocolLabel: "プロトコル"
        case .state: "状態"
        case .detail: "詳細"
        case .lastCheck: "最終成功"
        case .processedToday: "本日の処理数"
        case .lastError: "直近のエラー"
        case .retryAt: "次回の再試行"
        case .test: "テスト"
        case .verify: "検証"
        case .noChannels: "リンク済みのチャネルはまだありません。"
        case .testTitle: "接続テスト"
        case .verifyTitle: "検証"
        case .running: "実行中…"
        case .runLost: "この実行は終了したか、もう利用できません。もう一度開始してください。"
        case .runAgain: "もう一度実行"
        case .channel: "チャネル"
        case .all: "すべて"
        case .outcome: "結果"
        case .sender: "送信者"
        case .since: "開始"
        case .until: "終了"
        case .filter: "絞り込み"
        case .time: "日時"
        case .request: "リクエスト"
        case .attempts: "試行回数"
        case .retry: "再試行"
        case .release: "解放"
        case .noLog: "この条件に該当するログはありません。"
        case .newer: "新しい方へ"
        case .older: "古い方へ"
        case .signup: "サインアップ"
        case .restrictedHelp: "プロジェクトの顧客と許可リストの送信者だけがリクエストを作成できます"
        case .name: "名前"
        case .noCustomers: "顧客はまだいません。"
        case .addCustomer: "顧客を追加"
        case .lists: "許可リストとブロックリスト"
        case .listsHelp: "項目はアドレス（a@b.test）またはドメイン全体（b.test）です。"
        case .list: "リスト"
        case .pattern: "アドレスまたはドメイン"
        case .remove: "削除"
        case .noRules: "許可・ブロックの項目はありません。"
        case .add: "追加"
        case .fields: "フィールド"
        case .emailLabel: "メール"
        case .emailOk: "メールを受信できます"
        case .noRequestTypes: "リクエストタイプはまだありません。"
        case .fieldsHelp: "フィールド（1 行に 1 つ）: 名前:visible|hidden:required|optional"
        case .addRequestType: "リクエストタイプを追加"
        case .host: "サーバー"
        case .from: "送信元アドレス"
        case .username: "ユーザー"
        case .sendTest: "テスト送信"
        case .relayUnset: "SMTP リレーが設定されていません。postdesk smtp set で設定してください。"
        case .lastDelivery: "最終配信"
        case .failures: "連続失敗回数"
        case .serverSaid: "サーバーの応答"
        case .diagnosis: "診断"
        case .fix: "対処"
        case .outbox: "送信キュー"
        case .pending: "保留中"
        case .due: "送信待ち"
        case .failedLabel: "失敗"
        case .testReport: "テスト結果"
        case .advice: "助言"
        case .subject: "件名"
        }
    }

    /// Every text of `locale` by name, for the templates (`{{t.signIn}}`).
    static func table(_ locale: ConsoleLocale) -> [String: String] {
        Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue, $0.text(locale)) })
    }
}

extension ConsoleLocale {
    /// The language an agent sees: their own choice, else the first of the browser's Accept-Language (RFC 9110
    /// §12.5.4) that the console speaks, by weight; English otherwise.
    static func choose(agent: ConsoleLocale?, acceptLanguage: String?) -> ConsoleLocale {
        if let agent { return agent }
        guard let acceptLanguage else { return .en }
        var best: (locale: ConsoleLocale, weight: Double)?
        // At most 32 ranges are read: the header is the browser's, and a longer one says nothing more.
        for range in acceptLanguage.split(separator: ",").prefix(32) {
            let parts = range.split(separator: ";")
            let tag = (parts.first ?? "").trimmingCharacters(in: .whitespaces).lowercased()
            var weight = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.trimmingCharacters(in: .whitespaces)
                if pair.hasPrefix("q="), let value = Double(pair.dropFirst(2)) { weight = value }
            }
            let primary = tag.split(separator: "-").first.map(String.init) ?? tag
            guard let locale = ConsoleLocale(rawValue: primary), weight > 0 else { continue }
            if weight > (best?.weight ?? -1) { best = (locale, weight) }
        }
        return best?.locale ?? .en
    }
}

extension RequestStatus {
    /// The status as the console shows it.
    func label(_ locale: ConsoleLocale) -> String {
        switch self {
        case .waitingForSupport: ConsoleText.statusSupport.text(locale)
        case .waitingForCustomer: ConsoleText.statusCustomer.text(locale)
        case .resolved: ConsoleText.statusResolved.text(locale)
        }
    }
}
