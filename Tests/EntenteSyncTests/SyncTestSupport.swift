import EntenteCore
import EntenteTestSupport
import EntenteWire

/// Runs `body` and returns the wire error it threw, or nil if it returned normally.
func wireError<T>(_ body: () throws(WireError) -> T) -> WireError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}
