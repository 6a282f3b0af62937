extension FakeMailServer {
    /// A fake IMAP server over `mailbox` that replays `faults`; `capabilities` as announced in the greeting and
    /// after login (without IDLE the client polls).
    public static func imap(
        _ mailbox: FakeMailbox, faults: [FakeMailFault] = [], capabilities: String = "IMAP4rev1 UIDPLUS"
    ) throws -> FakeMailServer {
        let book = FakeMailFaultBook(faults)
        return try FakeMailServer(
            sessions: { connection in
                FakeIMAPSession(connection: connection, mailbox: mailbox, faults: book, capabilities: capabilities)
            }, faults: book)
    }

    /// A fake POP3 server over `mailbox` that replays `faults`.
    public static func pop3(_ mailbox: FakeMailbox, faults: [FakeMailFault] = []) throws -> FakeMailServer {
        let book = FakeMailFaultBook(faults)
        return try FakeMailServer(
            sessions: { connection in FakePOP3Session(connection: connection, mailbox: mailbox, faults: book) },
            faults: book)
    }
}
