/// Why a CSV file, a mapping or an export could not be processed.
///
/// One error type for the CSV layer.
///
/// Problems with single rows of an import are not thrown: they are collected as ``RowError``s, so that every
/// bad row of a file is reported at once.
public struct CSVError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    ///
    /// Wraps a private enum so that cases can be added without breaking clients.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case unreadableFile, unwritableFile, noHeader, unterminatedQuote, strayQuote, invalidUTF8
            case tooManyCells, invalidMapping, missingColumn, duplicateColumn, unrepresentable
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The file could not be opened or read.
        public static let unreadableFile = Code(.unreadableFile)
        /// The file could not be created or written.
        public static let unwritableFile = Code(.unwritableFile)
        /// The input holds no header row (it is empty or blank).
        public static let noHeader = Code(.noHeader)
        /// A quoted field is never closed: the rest of the input was read into it.
        public static let unterminatedQuote = Code(.unterminatedQuote)
        /// A quote inside an unquoted field, or text after a closing quote.
        public static let strayQuote = Code(.strayQuote)
        /// A cell is not valid UTF-8.
        public static let invalidUTF8 = Code(.invalidUTF8)
        /// A row has more (non-empty) cells than the header.
        public static let tooManyCells = Code(.tooManyCells)
        /// The mapping is not valid JSON, or does not fit the catalog.
        public static let invalidMapping = Code(.invalidMapping)
        /// A column the mapping needs (the key column, a currency column) is not in the file's header.
        public static let missingColumn = Code(.missingColumn)
        /// A column the mapping reads appears more than once in the header.
        public static let duplicateColumn = Code(.duplicateColumn)
        /// A value cannot be written in the mapping's CSV form (a set element holding the separator).
        public static let unrepresentable = Code(.unrepresentable)

        /// A short identifier of the code.
        public var description: String { "\(base)" }
    }

    /// The kind of failure.
    public let code: Code
    /// A sentence naming the problem.
    public let message: String
    /// The physical line (1-based, the header is line 1) where the record or field concerned starts, if any.
    public let line: Int?
    /// The 1-based position of the cell concerned in its record, if any.
    public let cell: Int?

    /// Creates an error.
    public init(_ code: Code, _ message: String, line: Int? = nil, cell: Int? = nil) {
        self.code = code
        self.message = message
        self.line = line
        self.cell = cell
    }

    /// `line N: message`, or the message alone.
    public var description: String {
        guard let line else { return message }
        return "line \(line): \(message)"
    }
}
