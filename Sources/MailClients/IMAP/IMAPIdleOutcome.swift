/// How an IDLE ended (RFC 2177).
public enum IMAPIdleOutcome: Sendable, Hashable {
    /// The server reported EXISTS, RECENT, EXPUNGE or FETCH (or did so before IDLE began): search again.
    case mailboxChanged
    /// The timeout passed without news; IDLE was ended with DONE and the session is ready for commands.
    case timedOut
}
