package org.enumera.android

import org.enumera.ffi.EnumeraException
import org.enumera.ffi.Interview
import org.enumera.ffi.Progress
import org.enumera.ffi.Screen
import org.enumera.ffi.ValidationIssue

/** Everything an interview screen draws, in one immutable value. */
data class InterviewState(
    val instanceId: String,
    val screens: List<Screen>,
    /** Index into [screens] of the screen shown. */
    val index: Int,
    val progress: Progress,
    /** Set after a refused finalize: what to fix, with the form's messages. */
    val blockers: List<ValidationIssue> = emptyList(),
    /** The last refused step, for a snackbar; answers are never in it. */
    val error: String? = null,
    val finalized: Boolean = false,
) {
    val screen: Screen? get() = screens.getOrNull(index)
    val atStart: Boolean get() = index == 0
    val atEnd: Boolean get() = index >= screens.size - 1
}

/**
 * The interview screen's logic without Android: moves between screens,
 * answers, adds repeats and finalizes, and tells [listener] each new
 * [InterviewState]. Calls block (they commit to the database), so the app
 * calls them off the main thread; `InterviewFlow` does that and exposes a
 * `StateFlow`.
 */
class InterviewModel(
    private val interview: Interview,
    private val listener: (InterviewState) -> Unit = {},
) {
    var state: InterviewState = load(0, error = null)
        private set(value) {
            field = value
            listener(value)
        }

    init {
        listener(state)
    }

    fun next() = move(state.index + 1)

    fun back() = move(state.index - 1)

    /** Jumps to the screen showing [reference] (from the hierarchy view). */
    fun jumpTo(reference: String) {
        val i = state.screens.indexOfFirst { screen ->
            when (screen) {
                is Screen.Question -> screen.question.reference == reference
                is Screen.FieldList -> screen.reference == reference ||
                    screen.questions.any { it.reference == reference }
                is Screen.AddRepeat -> screen.reference == reference
            }
        }
        if (i >= 0) move(i)
    }

    fun answer(reference: String, value: String) = step { interview.answer(reference, value) }

    fun clear(reference: String) = step { interview.clear(reference) }

    /** "Add another?" answered yes: the new instance's first screen follows. */
    fun addRepeat(reference: String) = step { interview.addRepeat(reference) }

    fun removeRepeat(reference: String) = step { interview.removeRepeat(reference) }

    fun setLanguage(language: String) = step { interview.setLanguage(language) }

    /** Finalizes, or shows what blocks it and goes to the first such question. */
    fun finalize() {
        try {
            interview.finalize()
            state = state.copy(finalized = true, blockers = emptyList(), error = null)
        } catch (e: EnumeraException.Blocked) {
            state = load(state.index, error = null).copy(blockers = e.issues)
            e.issues.firstOrNull()?.let { jumpTo(it.reference) }
        } catch (e: EnumeraException) {
            state = state.copy(error = describe(e))
        }
    }

    private fun move(index: Int) {
        state = state.copy(index = index.coerceIn(0, (state.screens.size - 1).coerceAtLeast(0)), error = null)
    }

    private fun step(action: () -> Unit) {
        val error = try {
            action()
            null
        } catch (e: EnumeraException) {
            describe(e)
        }
        state = load(state.index, error)
    }

    private fun load(index: Int, error: String?): InterviewState {
        val screens = interview.screens()
        return InterviewState(
            instanceId = interview.instanceId(),
            screens = screens,
            index = index.coerceIn(0, (screens.size - 1).coerceAtLeast(0)),
            progress = interview.progress(),
            error = error,
            finalized = interview.isFinalized(),
        )
    }

    companion object {
        /** A short text for the user; carries no answer values. */
        fun describe(e: EnumeraException): String = when (e) {
            is EnumeraException.InvalidAnswer -> e.reason
            is EnumeraException.UnknownReference -> "No question ${e.reference}"
            is EnumeraException.NotEditable -> "This response is ${e.state} and can no longer change"
            is EnumeraException.Storage -> "Storage problem: ${e.reason}"
            is EnumeraException.Network -> "Network problem: ${e.detail}"
            else -> e.message ?: e.javaClass.simpleName
        }
    }
}
