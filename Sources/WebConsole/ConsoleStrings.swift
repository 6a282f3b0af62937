import ServiceDesk

/// The console's words in each language it speaks; one table, so that a label is never missing in one of them.
enum ConsoleText: String, CaseIterable {
    case signInTitle, email, password, signIn, signOut, badLogin, tooManyAttempts, queue, search, key, summary, status
    case reporter, assignee, updated, empty, filterOpen, filterSupport, filterCustomer, filterMine, filterUnassigned
    case replyToCustomer, internalNote, send, quoted, attachments, update, unassigned, settings, language, automatic
    case save, setPassword, newPassword, repeatPassword, passwordsDiffer, passwordTooShort, linkExpired, thread
    case noProjects, internalLabel, statusSupport, statusCustomer, statusResolved

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
