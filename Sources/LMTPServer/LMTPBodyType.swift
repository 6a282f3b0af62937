/// The body type a client declared in MAIL FROM (RFC 6152 §2: `BODY=7BIT` or `BODY=8BITMIME`).
public enum LMTPBodyType: String, Sendable, Hashable {
    case sevenBit = "7BIT"
    case eightBitMIME = "8BITMIME"
}
