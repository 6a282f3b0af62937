extension String {
    /// The string without leading and trailing spaces, tabs, CR and LF.
    func trimmingASCIIWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.isASCIIWhitespace }) else { return "" }
        guard let end = scalars.lastIndex(where: { !$0.isASCIIWhitespace }) else { return "" }
        return String(scalars[start...end])
    }
}

extension Unicode.Scalar {
    /// Space, tab, CR, LF, VT or FF.
    var isASCIIWhitespace: Bool {
        value == 0x20 || value == 0x09 || value == 0x0A || value == 0x0D || value == 0x0B || value == 0x0C
    }
}

extension String {
    /// The string without leading and trailing characters from `set`.
    func trimming(charactersIn set: String) -> String {
        let scalars = unicodeScalars
        // The sets are a few characters: a linear search beats building a Set on every call.
        let members = set.unicodeScalars
        guard let start = scalars.firstIndex(where: { !members.contains($0) }) else { return "" }
        guard let end = scalars.lastIndex(where: { !members.contains($0) }) else { return "" }
        return String(scalars[start...end])
    }
}
