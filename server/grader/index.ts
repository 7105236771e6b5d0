// The grader's public surface.
//   createGrader(env, options) → Grader { gradeStep, applySolution, applyStepSetup, resetStep,
//     applyWrongSolution, snapshot, close }: grades one environment through its Kubernetes API.
//   gradeAnswer(question, answer) → Grade: pure grading of a lab question.
export { createGrader, stepChecks } from './grader.ts';
export type { Grader, GraderEnvironment, GraderOptions, GradeOptions } from './grader.ts';
export { gradeAnswer, answerKey, lintQuestions, readPolicies } from './quiz.ts';
export { classify } from './classify.ts';
export type { ProbeTool, ToolRun, Classification } from './classify.ts';
export { ApplyError } from './apply.ts';
export type { AppliedChange } from './apply.ts';
export { proberImage, proberLabel } from './probers.ts';
