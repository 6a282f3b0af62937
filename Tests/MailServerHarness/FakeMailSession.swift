/// One connection's side of a `FakeMailServer` conversation: what it says first and how it answers each client
/// line. The server makes one per accepted connection and uses it on its own thread only.
public protocol FakeMailSession: AnyObject {
    /// What is sent when the client connects.
    func greeting() -> FakeMailReply
    /// The answer to one client line (CRLF removed).
    func respond(to line: String) -> FakeMailReply
}
