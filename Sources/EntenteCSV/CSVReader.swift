#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One record of a CSV file: its cells, and the physical line where it starts.
public struct CSVRecord: Hashable, Sendable {
    /// The 1-based physical line where the record starts (the header is line 1, or later after blank lines).
    public let line: Int
    /// The cells, exactly as many as the header has columns (missing trailing cells are empty).
    public let cells: [String]

    /// Creates a record.
    public init(line: Int, cells: [String]) {
        self.line = line
        self.cells = cells
    }
}

/// A streaming RFC 4180 CSV reader over bytes: a file read in large chunks, or bytes in memory.
///
/// The first non-blank record is the header. Each call to ``next()`` returns the following record with the
/// line it starts on; a record with a problem (a stray quote, invalid UTF-8, too many cells) is thrown as a
/// ``CSVError`` naming its line, and reading may go on with the record after it. `Specs/csv.md` gives the
/// grammar.
///
/// ```swift
/// let reader = try CSVReader(path: "opportunities.csv")
/// while let record = try reader.next() { print(record.line, record.cells) }
/// ```
public final class CSVReader {
    /// The header's cells (the column names), as written.
    public private(set) var header: [String] = []
    /// The line the header starts on.
    public private(set) var headerLine = 1
    /// How many records after the header were read so far, including records thrown as errors.
    public private(set) var recordsRead = 0

    private var file: UnsafeMutablePointer<FILE>?
    private let path: String
    private let chunkSize: Int
    private var buffer: [UInt8]
    private var position = 0
    private var line = 1
    private var atEOF: Bool
    private var cells: [String] = []
    private var scratch: [UInt8] = []

    /// Opens a file and reads its header.
    /// - Parameters:
    ///   - path: the file to read.
    ///   - chunkSize: how many bytes to read at a time (records longer than this are handled too).
    /// - Throws: `CSVError` if the file cannot be read, holds no header, or the header is malformed.
    public init(path: String, chunkSize: Int = 1 << 20) throws(CSVError) {
        guard let file = fopen(path, "rb") else {
            throw CSVError(.unreadableFile, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        self.file = file
        self.path = path
        self.chunkSize = max(chunkSize, 64)
        self.buffer = []
        self.atEOF = false
        try start()
    }

    /// Reads CSV held in memory (UTF-8 bytes), starting with its header.
    /// - Throws: `CSVError` if the bytes hold no header or the header is malformed.
    public init(bytes: [UInt8]) throws(CSVError) {
        self.file = nil
        self.path = "(memory)"
        self.chunkSize = 0
        self.buffer = bytes
        self.atEOF = true
        try start()
    }

    /// Reads CSV text, starting with its header.
    /// - Throws: `CSVError` if the text holds no header or the header is malformed.
    public convenience init(string: String) throws(CSVError) {
        try self.init(bytes: Array(string.utf8))
    }

    deinit {
        if let file { fclose(file) }
    }

    /// Skips a UTF-8 byte-order mark and reads the header.
    private func start() throws(CSVError) {
        while buffer.count < 3, try fill() {}
        if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { position = 3 }
        guard let first = try read(columns: nil) else {
            throw CSVError(.noHeader, "the input is empty: a CSV file starts with a header row naming its columns")
        }
        header = first.cells
        headerLine = first.line
    }

    /// Returns the next record, or nil at the end of the input.
    ///
    /// A record with fewer cells than the header is padded with empty cells; extra cells that are all empty
    /// (a trailing comma) are dropped.
    /// - Throws: `CSVError` naming the line of a malformed record. The reader is then positioned after that
    ///   record, so reading can go on (after an unterminated quote, the input is exhausted).
    public func next() throws(CSVError) -> CSVRecord? {
        try read(columns: header.count)
    }

    /// Reads every remaining record.
    /// - Throws: the first `CSVError`.
    public func readAll() throws(CSVError) -> [CSVRecord] {
        var records: [CSVRecord] = []
        while let record = try next() { records.append(record) }
        return records
    }

    private func read(columns: Int?) throws(CSVError) -> CSVRecord? {
        while true {
            var cells = self.cells
            var scratch = self.scratch
            self.cells = []
            self.scratch = []
            let step = buffer.withUnsafeBufferPointer { buffer in
                CSVParser.parse(buffer, from: position, final: atEOF, cells: &cells, scratch: &scratch)
            }
            self.scratch = scratch
            switch step {
            case .needMore:
                self.cells = cells
                _ = try fill()
            case .end:
                self.cells = cells
                return nil
            case .blank(let length):
                self.cells = cells
                position += length
                line += 1
            case .record(let end, let newlines, var problem):
                let start = line
                position = end
                line += newlines
                if columns != nil { recordsRead += 1 }
                var record = cells
                self.cells = cells
                self.cells.removeAll(keepingCapacity: true)
                if let columns {
                    if record.count > columns {
                        if record[columns...].allSatisfy(\.isEmpty) {
                            record.removeSubrange(columns...)
                        } else if problem == nil {
                            problem = CSVParser.Problem(
                                code: .tooManyCells,
                                message: "the row has \(record.count) cells but the header has \(columns) columns",
                                lineOffset: 0,
                                cell: columns + 1
                            )
                        }
                    }
                    while record.count < columns { record.append("") }
                }
                if let problem {
                    throw CSVError(
                        problem.code,
                        problem.message,
                        line: start + problem.lineOffset,
                        cell: problem.cell
                    )
                }
                return CSVRecord(line: start, cells: record)
            }
        }
    }

    /// Appends the next chunk of the file to the buffer, first dropping the bytes already consumed.
    /// - Returns: whether any byte was added.
    private func fill() throws(CSVError) -> Bool {
        guard let file, !atEOF else {
            atEOF = true
            return false
        }
        if position > 0 {
            buffer.removeSubrange(0..<position)
            position = 0
        }
        let want = max(chunkSize, buffer.count)
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: want))
        let got = buffer.withUnsafeMutableBufferPointer { bytes in
            guard let base = bytes.baseAddress else { return 0 }
            return fread(base + old, 1, want, file)
        }
        buffer.removeLast(want - got)
        if got < want {
            if ferror(file) != 0 {
                throw CSVError(.unreadableFile, "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            atEOF = true
        }
        return got > 0
    }
}

@available(*, unavailable)
extension CSVReader: Sendable {}

/// The byte-level RFC 4180 record parser, over a buffer that may end in the middle of a record.
enum CSVParser {
    static let quote = UInt8(ascii: "\"")
    static let comma = UInt8(ascii: ",")
    static let lf = UInt8(ascii: "\n")
    static let cr = UInt8(ascii: "\r")

    /// A record's problem, relative to the line where the record starts.
    struct Problem {
        var code: CSVError.Code
        var message: String
        var lineOffset: Int
        var cell: Int
    }

    /// What the parser found at the position.
    enum Step {
        /// The buffer ends inside a record: read more and parse again from the same position.
        case needMore
        /// The input is exhausted.
        case end
        /// An empty line of this many bytes.
        case blank(Int)
        /// A record (its cells appended to `cells`) ending before `end`, spanning `newlines` line breaks.
        case record(end: Int, newlines: Int, problem: Problem?)
    }

    /// Parses one record starting at `start`.
    /// - Parameter final: no byte follows the buffer (the end of the input).
    static func parse(
        _ buffer: UnsafeBufferPointer<UInt8>,
        from start: Int,
        final: Bool,
        cells: inout [String],
        scratch: inout [UInt8]
    ) -> Step {
        let count = buffer.count
        var index = start
        guard index < count else { return final ? .end : .needMore }
        if buffer[index] == lf { return .blank(1) }
        if buffer[index] == cr {
            if index + 1 < count { return .blank(buffer[index + 1] == lf ? 2 : 1) }
            return final ? .blank(1) : .needMore
        }
        cells.removeAll(keepingCapacity: true)
        var newlines = 0
        var problem: Problem?
        while true {
            let cellLine = newlines
            if index < count && buffer[index] == quote {
                index += 1
                var segment = index
                var escaped = false
                var closed = false
                scratch.removeAll(keepingCapacity: true)
                while index < count {
                    let byte = buffer[index]
                    if byte == quote {
                        if index + 1 < count {
                            if buffer[index + 1] == quote {
                                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[segment...index]))
                                index += 2
                                segment = index
                                escaped = true
                                continue
                            }
                        } else if !final {
                            return .needMore
                        }
                        closed = true
                        break
                    }
                    if byte == lf {
                        newlines += 1
                    } else if byte == cr {
                        if index + 1 < count {
                            if buffer[index + 1] != lf { newlines += 1 }
                        } else if !final {
                            return .needMore
                        } else {
                            newlines += 1
                        }
                    }
                    index += 1
                }
                if !closed {
                    if !final { return .needMore }
                    scratch.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[segment..<count]))
                    cells.append(String(decoding: scratch, as: UTF8.self))
                    let cell = cells.count
                    problem = Problem(
                        code: .unterminatedQuote,
                        message: "unterminated quoted field: the quote that opens cell \(cell) is never closed, "
                            + "so the rest of the input (\(newlines - cellLine) more lines) was read into it",
                        lineOffset: cellLine,
                        cell: cell
                    )
                    return .record(end: count, newlines: newlines, problem: problem)
                }
                let contentEnd = index
                index += 1
                let text: String?
                if escaped {
                    scratch.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[segment..<contentEnd]))
                    text = scratch.withUnsafeBufferPointer { string($0) }
                } else {
                    text = string(UnsafeBufferPointer(rebasing: buffer[segment..<contentEnd]))
                }
                if index < count, buffer[index] != comma, buffer[index] != lf, buffer[index] != cr {
                    if problem == nil {
                        problem = Problem(
                            code: .strayQuote,
                            message: "text after the closing quote of cell \(cells.count + 1) "
                                + "(a quote inside a quoted field is written twice: \"\")",
                            lineOffset: newlines,
                            cell: cells.count + 1
                        )
                    }
                    while index < count, buffer[index] != comma, buffer[index] != lf, buffer[index] != cr {
                        index += 1
                    }
                    if index == count && !final { return .needMore }
                }
                append(text, to: &cells, problem: &problem, lineOffset: cellLine)
            } else {
                let cellStart = index
                while index < count {
                    let byte = buffer[index]
                    if byte == comma || byte == lf || byte == cr { break }
                    if byte == quote && problem == nil {
                        problem = Problem(
                            code: .strayQuote,
                            message: "a quote inside unquoted cell \(cells.count + 1) (quote the whole cell and "
                                + "write the quote twice: \"a \"\"b\"\" c\")",
                            lineOffset: newlines,
                            cell: cells.count + 1
                        )
                    }
                    index += 1
                }
                if index == count && !final { return .needMore }
                let text = string(UnsafeBufferPointer(rebasing: buffer[cellStart..<index]))
                append(text, to: &cells, problem: &problem, lineOffset: cellLine)
            }
            guard index < count else { return .record(end: count, newlines: newlines, problem: problem) }
            let delimiter = buffer[index]
            if delimiter == comma {
                index += 1
                continue
            }
            if delimiter == lf { return .record(end: index + 1, newlines: newlines + 1, problem: problem) }
            if index + 1 < count {
                return .record(
                    end: buffer[index + 1] == lf ? index + 2 : index + 1,
                    newlines: newlines + 1,
                    problem: problem
                )
            }
            if !final { return .needMore }
            return .record(end: index + 1, newlines: newlines + 1, problem: problem)
        }
    }

    /// The bytes as a string, or nil if they are not valid UTF-8 (ASCII, the common case, skips validation).
    @inline(__always)
    static func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var high: UInt8 = 0
        for byte in bytes { high |= byte }
        if high < 0x80 { return String(decoding: bytes, as: UTF8.self) }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func append(_ text: String?, to cells: inout [String], problem: inout Problem?, lineOffset: Int) {
        if let text {
            cells.append(text)
            return
        }
        cells.append("")
        if problem == nil {
            problem = Problem(
                code: .invalidUTF8,
                message: "cell \(cells.count) is not valid UTF-8 text (save the file as UTF-8)",
                lineOffset: lineOffset,
                cell: cells.count
            )
        }
    }
}
