/// Ready transcripts of real providers' failures, for `FakeMailServer` (connect with TLS `.none`).
///
/// The wording is the providers' own, as admins report it; the flows are what our clients send: CAPABILITY/CAPA,
/// then AUTHENTICATE PLAIN or LOGIN (IMAP), USER/PASS or AUTH (POP3).
extension FakeMailScript {
    /// Gmail's IMAP capabilities (as sent before login).
    public static let gmailCapabilities =
        "* CAPABILITY IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 XYZZY SASL-IR AUTH=XOAUTH2 AUTH=PLAIN AUTH=PLAIN-CLIENTTOKEN AUTH=OAUTHBEARER"

    /// The exact words of Gmail's web-login refusal.
    public static let gmailWebLoginText =
        "[ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)"

    /// Gmail IMAP refusing a password login: `NO [ALERT] Please log in via your web browser…`.
    public static let gmailIMAPWebLoginAlert = FakeMailScript.imap(
        greeting: "* OK Gimap ready for requests from 127.0.0.1 a7mb123456789abc",
        [
            .expect("CAPABILITY", gmailCapabilities, "{tag} OK Thats all she wrote! a7mb123456789abc"),
            .expect(regex: "^(AUTHENTICATE|LOGIN) ", "{tag} NO \(gmailWebLoginText)"),
        ]
    )

    /// The exact words of Yahoo's account-verification refusal.
    public static let yahooVerifyText =
        "[AUTHENTICATIONFAILED] (#MBR1240) Please verify your account by going to https://login.yahoo.com"

    /// Yahoo IMAP refusing a login until the account is verified: `NO [AUTHENTICATIONFAILED] (#MBR1240)…`.
    public static let yahooIMAPVerifyAccount = FakeMailScript.imap(
        greeting:
            "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=XOAUTH2 AUTH=OAUTHBEARER ID MOVE NAMESPACE XYMHIGHESTMODSEQ UIDPLUS LITERAL+ CHILDREN X-MSG-EXT UNSELECT OBJECTID] IMAP4rev1 imapgate-1.8.1_01.20166 imap1008.mail.ne1.yahoo.com",
        [.expect(regex: "^(AUTHENTICATE|LOGIN) ", "{tag} NO \(yahooVerifyText)")]
    )

    /// The exact words of Outlook's POP3 login limit.
    public static let outlookLoginLimitText =
        "-ERR Exceeded the login limit for a 15 minute period. Reduce the frequency of requests to the POP3 server."

    /// Outlook POP3: USER and PASS accepted, then STAT refused with the 15-minute login limit.
    public static let outlookPOP3LoginLimit = FakeMailScript.pop3(
        greeting:
            "+OK The Microsoft Exchange POP3 service is ready. [TQBXADIAUABSADEANABDAEEAMAAwADIANQAuAG4AYQBtAHAAcgBkADEANAAuAHAAcgBvAGQALgBvAHUAdABsAG8AbwBrAC4AYwBvAG0A]",
        [
            .expect("CAPA", "+OK", "TOP", "UIDL", "USER", "."),
            .expect("USER ", "+OK"),
            .expect("PASS ", "+OK User successfully authenticated."),
            .expect("STAT", outlookLoginLimitText),
        ],
        anytime: [.expect("CAPA", "+OK", "TOP", "UIDL", "USER", ".")]
    )

    /// Microsoft's IMAP capabilities.
    public static let microsoftCapabilities =
        "* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+"

    /// Microsoft IMAP greeting.
    public static let microsoftGreeting =
        "* OK The Microsoft Exchange IMAP4 service is ready. [TQBXADIAUABSADEANABDAEEAMAAwADIANQAuAG4AYQBtAHAAcgBkADEANAAuAHAAcgBvAGQALgBvAHUAdABsAG8AbwBrAC4AYwBvAG0A]"

    /// Microsoft IMAP: the login succeeds, SELECT fails with `BAD User is authenticated but not connected.`
    public static let microsoftIMAPNotConnected = FakeMailScript.imap(
        greeting: microsoftGreeting,
        [
            .expect("CAPABILITY", microsoftCapabilities, "{tag} OK CAPABILITY completed."),
            .expect(regex: "^(AUTHENTICATE|LOGIN) ", "{tag} OK AUTHENTICATE completed."),
            .expect("CAPABILITY", microsoftCapabilities, "{tag} OK CAPABILITY completed."),
            .expect(regex: "^(SELECT|EXAMINE) ", "{tag} BAD User is authenticated but not connected."),
        ]
    )

    /// The exact words of Microsoft's throttling.
    public static let microsoftThrottledText = "Request is throttled. Suggested Backoff Time: 299134 milliseconds"

    /// Microsoft IMAP throttling the login: `NO Request is throttled. Suggested Backoff Time: 299134 milliseconds`.
    public static let microsoftIMAPThrottled = FakeMailScript.imap(
        greeting: microsoftGreeting,
        [
            .expect("CAPABILITY", microsoftCapabilities, "{tag} OK CAPABILITY completed."),
            .expect(regex: "^(AUTHENTICATE|LOGIN) ", "{tag} NO \(microsoftThrottledText)"),
        ]
    )

    /// A Dovecot-like IMAP server refusing a wrong password.
    public static let imapBadCredentials = FakeMailScript.imap(
        greeting:
            "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] Dovecot ready.",
        [.expect(regex: "^(AUTHENTICATE|LOGIN) ", "{tag} NO [AUTHENTICATIONFAILED] Authentication failed.")]
    )

    /// An IMAP server that does not offer STARTTLS (and refuses it when asked anyway).
    public static let imapWithoutSTARTTLS = FakeMailScript.imap(
        greeting: "* OK IMAP4rev1 server ready",
        [.expect("CAPABILITY", "* CAPABILITY IMAP4rev1 AUTH=PLAIN", "{tag} OK CAPABILITY completed")],
        anytime: [.expect("STARTTLS", "{tag} BAD STARTTLS not offered")]
    )

    /// A server that accepts connections and never greets (for timeouts).
    public static let neverGreets = FakeMailScript(
        greeting: nil, tagged: false, exchanges: [], unexpectedReply: [])
}
