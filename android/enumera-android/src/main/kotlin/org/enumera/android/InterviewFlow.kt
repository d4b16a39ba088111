package org.enumera.android

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withContext
import org.enumera.ffi.Interview

/**
 * An interview as a [StateFlow] of [InterviewState] for Compose: every
 * action runs on [dispatcher] (each one commits to the database) and
 * publishes the new state. Actions are serialised in call order.
 */
class InterviewFlow private constructor(
    private val dispatcher: CoroutineDispatcher,
    private val states: MutableStateFlow<InterviewState>,
    private val model: InterviewModel,
) {
    val state: StateFlow<InterviewState> = states.asStateFlow()
    private val lock = Mutex()

    suspend fun next() = run { model.next() }
    suspend fun back() = run { model.back() }
    suspend fun jumpTo(reference: String) = run { model.jumpTo(reference) }
    suspend fun answer(reference: String, value: String) = run { model.answer(reference, value) }
    suspend fun clear(reference: String) = run { model.clear(reference) }
    suspend fun addRepeat(reference: String) = run { model.addRepeat(reference) }
    suspend fun removeRepeat(reference: String) = run { model.removeRepeat(reference) }
    suspend fun setLanguage(language: String) = run { model.setLanguage(language) }
    suspend fun finalize() = run { model.finalize() }

    private suspend fun run(action: () -> Unit) = lock.withLock {
        withContext(dispatcher) { action() }
    }

    companion object {
        /** Loads the first state off the main thread. */
        suspend fun open(
            interview: Interview,
            dispatcher: CoroutineDispatcher = Dispatchers.IO,
        ): InterviewFlow = withContext(dispatcher) {
            lateinit var states: MutableStateFlow<InterviewState>
            val model = InterviewModel(interview) { s ->
                if (::states.isInitialized) states.value = s
            }
            states = MutableStateFlow(model.state)
            InterviewFlow(dispatcher, states, model)
        }
    }
}
