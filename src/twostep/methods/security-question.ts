import { hash, verify } from '@node-rs/argon2';
import type { Kysely, Transaction } from 'kysely';
import { argon2Params } from '../../accounts/password.js';
import type { RequestMeta } from '../../platform/audit.js';
import type { DB } from '../../platform/db/schema.js';
import { AppError, invalid } from '../../platform/errors.js';
import { applyChange, type ChangeDeps } from '../changes.js';
import { addMethod } from '../queries.js';

/** The questions a member may choose from (GET /v1/security-questions). Ids are stable. */
export const SECURITY_QUESTIONS = [
  { id: 'first_school', text: 'What was the name of your first school?' },
  { id: 'childhood_friend', text: 'What was the first name of your best friend as a child?' },
  { id: 'first_pet', text: 'What was the name of your first pet?' },
  { id: 'parents_met', text: 'In which city did your parents meet?' },
  { id: 'first_job', text: 'What was the name of the company of your first job?' },
  { id: 'first_street', text: 'What was the name of the street you grew up on?' },
  { id: 'favourite_teacher', text: 'What was the last name of your favourite teacher?' },
] as const;

export const ANSWER_MIN_LENGTH = 3;
export const ANSWER_MAX_LENGTH = 200;

export function questionText(id: string): string | undefined {
  return SECURITY_QUESTIONS.find((q) => q.id === id)?.text;
}

/**
 * The answer as compared: NFKC (the same characters from any keyboard), case folded
 * (upper then lower, so "STRASSE" and "Straße" meet), runs of white space made one space,
 * and punctuation around the answer dropped ("Rex." is "rex").
 */
export function normalizeAnswer(answer: string): string {
  return answer
    .normalize('NFKC')
    .toUpperCase()
    .toLowerCase()
    .replace(/\s+/gu, ' ')
    .replace(/^[\s\p{P}]+|[\s\p{P}]+$/gu, '');
}

/** A change of answer made through a link rather than from the settings (the forgot-answer flow). */
export interface AnswerReset {
  /** Audit detail `via`. */
  name: string;
  /** The e-mail's opening sentence. */
  summary: string;
  within(trx: Transaction<DB>, now: Date): Promise<void>;
}

/** The security question: a question from the list and an argon2id hash of the normalised answer. */
export class SecurityQuestionMethod {
  constructor(private readonly deps: ChangeDeps) {}

  /**
   * Sets (or changes) the question and answer. `via` runs first in the change's transaction
   * (the account row locked), so a forgot-answer link is used up with the change or not at all.
   */
  async set(accountId: string, input: { question: string; answer: string }, meta: RequestMeta, via?: AnswerReset): Promise<void> {
    const text = questionText(input.question);
    if (!text) throw invalid([{ path: '/question', message: 'Choose one of the listed questions.' }]);
    const normalized = normalizeAnswer(input.answer);
    if ([...normalized].length < ANSWER_MIN_LENGTH) {
      throw new AppError('answer_too_short', {
        detail: `Your answer needs at least ${ANSWER_MIN_LENGTH} letters or digits.`,
        extra: { errors: [{ path: '/answer', message: `Use at least ${ANSWER_MIN_LENGTH} characters.` }] },
      });
    }
    const answerHash = await hash(normalized, argon2Params);
    await applyChange(this.deps, accountId, meta, async (trx, now) => {
      if (via) await via.within(trx, now);
      const before = await trx.selectFrom('security_answers').select('question_id').where('account_id', '=', accountId).executeTakeFirst();
      await trx
        .insertInto('security_answers')
        .values({ account_id: accountId, question_id: input.question, answer_hash: answerHash, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column('account_id').doUpdateSet({ question_id: input.question, answer_hash: answerHash, updated_at: now }))
        .execute();
      await addMethod(trx, accountId, 'security_question', now, { replaced: true });
      return {
        result: undefined,
        change: {
          event: before ? 'two_step.method_changed' : 'two_step.method_added',
          type: 'security_question',
          summary: via?.summary ?? (before ? 'The security question or its answer was changed.' : 'A security question was added to your account.'),
          details: { question: input.question, ...(via ? { via: via.name } : {}) },
        },
      };
    });
  }

  /** True when `answer` matches the stored one after normalising. Attempts are counted by the caller. */
  async check(accountId: string, answer: string): Promise<boolean> {
    const row = await this.deps.db.selectFrom('security_answers').select('answer_hash').where('account_id', '=', accountId).executeTakeFirst();
    if (!row || answer.length > ANSWER_MAX_LENGTH * 4) return false;
    try {
      return await verify(row.answer_hash, normalizeAnswer(answer));
    } catch {
      return false;
    }
  }

  /** The account's question, for the challenge's hint. */
  static async question(db: Kysely<DB>, accountId: string): Promise<{ id: string; text: string } | null> {
    const row = await db.selectFrom('security_answers').select('question_id').where('account_id', '=', accountId).executeTakeFirst();
    const text = row ? questionText(row.question_id) : undefined;
    return row && text ? { id: row.question_id, text } : null;
  }

  static async remove(trx: Kysely<DB>, accountId: string): Promise<void> {
    await trx.deleteFrom('security_answers').where('account_id', '=', accountId).execute();
  }
}
