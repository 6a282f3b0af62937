/// Why the settings of `postdesk serve` cannot be used; each problem names its source (flag, environment variable,
/// config file and line), so that `--print-config` can check a configuration before a restart.
struct SettingsError: Error, CustomStringConvertible, Equatable {
    /// What is wrong.
    enum Code: Sendable, Equatable {
        /// A value its setting does not take.
        case badValue
        /// A config file key that is no setting's name.
        case unknownKey
        /// A config file line that is not `key = value`.
        case malformedLine
        /// A config file that sets one key twice.
        case duplicateKey
        /// A config file that cannot be read.
        case unreadableFile
    }

    /// One problem, in one line.
    struct Problem: Sendable, Equatable {
        var code: Code
        var message: String
    }

    var problems: [Problem]

    var description: String { problems.map(\.message).joined(separator: "\n") }
}
